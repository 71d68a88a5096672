// Turns the measured rounds into the tables printed on stdout and written to docs/benchmarks.md.

export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median of each figure over a subject's rounds. */
export function summarize(rounds) {
  const pick = (fn) => median(rounds.map(fn));
  return {
    rps: pick((r) => r.closed.rps),
    p50Us: pick((r) => r.closed.p50Us),
    p99Us: pick((r) => r.closed.p99Us),
    singleP50Us: pick((r) => r.single.p50Us),
    singleP99Us: pick((r) => r.single.p99Us),
    rateP50Us: pick((r) => r.rate.p50Us),
    rateP99Us: pick((r) => r.rate.p99Us),
    achieved: pick((r) => r.rate.achieved),
  };
}

const DASH = '—';

function ms(us) {
  if (us === null || us === undefined) return DASH;
  const v = us / 1000;
  if (v >= 100) return `${Math.round(v).toLocaleString('en-US')} ms`;
  return `${v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
}

function addedMs(us, baseUs) {
  if (us === null || us === undefined || baseUs === null || baseUs === undefined) return DASH;
  const d = Math.abs(us - baseUs) / 1000;
  const text = d >= 100 ? Math.round(d).toLocaleString('en-US') : d >= 10 ? d.toFixed(1) : d.toFixed(3);
  return `${us >= baseUs ? '+' : '−'}${text} ms`;
}

function ratio(value, base) {
  if (!value || !base) return DASH;
  return `${(value / base).toFixed(2)}×`;
}

function count(n) {
  return n === null || n === undefined ? DASH : Math.round(n).toLocaleString('en-US');
}

function mib(bytes) {
  return bytes ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : DASH;
}

/** A markdown table whose columns are padded, so it reads as well in a terminal as in a rendered page. */
export function table(header, rows, align) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const cell = (text, i) => (align[i] === 'r' ? String(text).padStart(widths[i]) : String(text).padEnd(widths[i]));
  const line = (cells) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The two result tables and the notes under them (subjects not available, failed requests). */
export function resultTables(results, params) {
  const byName = new Map(results.map((r) => [r.name, r]));
  const direct = byName.get('direct')?.summary;
  const nginx = byName.get('nginx')?.summary;
  const nginxRss = byName.get('nginx')?.peakRss;
  const rate = count(params.rate);

  const throughputRows = results.map((r) => {
    if (!r.summary) return [r.name, 'not available', DASH, DASH, DASH, DASH, DASH, DASH];
    const s = r.summary;
    return [r.name, count(s.rps), ratio(s.rps, direct?.rps), ratio(s.rps, nginx?.rps), ms(s.p50Us), ms(s.p99Us), mib(r.peakRss), ratio(r.peakRss, nginxRss)];
  });
  const latencyRows = results.map((r) => {
    if (!r.summary) return [r.name, 'not available', DASH, DASH, DASH, DASH, DASH, DASH];
    const s = r.summary;
    const isDirect = r.name === 'direct';
    return [
      r.name,
      ms(s.singleP50Us),
      isDirect ? DASH : addedMs(s.singleP50Us, direct?.singleP50Us),
      ms(s.rateP50Us),
      ms(s.rateP99Us),
      isDirect ? DASH : addedMs(s.rateP99Us, direct?.rateP99Us),
      ratio(s.rateP99Us, nginx?.rateP99Us),
      count(s.achieved),
    ];
  });

  const throughput = table(
    ['subject', 'req/s', '× direct', '× nginx', 'p50', 'p99', 'peak RSS', 'RSS × nginx'],
    throughputRows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const latency = table(
    ['subject', 'p50 @ 1 conn', 'added p50', `p50 @ ${rate}/s`, `p99 @ ${rate}/s`, 'added p99', 'p99 × nginx', 'achieved req/s'],
    latencyRows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );

  const notes = [];
  for (const r of results) {
    if (!r.summary) notes.push(`${r.name}: not available (${r.reason})`);
    else if (r.summary.achieved < 0.97 * params.rate) {
      notes.push(`${r.name}: did not keep up with ${rate} req/s (answered ${count(r.summary.achieved)}/s while the load ran), so its latency at that rate is mostly queueing`);
    }
    for (const [i, round] of (r.rounds ?? []).entries()) {
      for (const [key, label] of [['closed', `${params.connections} connections`], ['single', '1 connection'], ['rate', `${rate} req/s`]]) {
        const errors = round[key]?.errors;
        if (errors) notes.push(`${r.name}: ${count(errors)} failed requests at ${label}, round ${i + 1}${round[key].firstError ? ` (${round[key].firstError})` : ''}`);
        if (round[key]?.unanswered) notes.push(`${r.name}: ${count(round[key].unanswered)} requests still unanswered 5 s after the load at ${label} stopped, round ${i + 1}`);
      }
    }
  }
  return { throughput, latency, notes };
}

/** Every round's figures, for the record. */
export function roundsTable(results, params) {
  const rows = [];
  for (const r of results) {
    for (const [i, round] of (r.rounds ?? []).entries()) {
      rows.push([
        r.name,
        String(i + 1),
        count(round.closed.rps),
        ms(round.closed.p50Us),
        ms(round.closed.p99Us),
        ms(round.single.p50Us),
        ms(round.rate.p50Us),
        ms(round.rate.p99Us),
        count(round.rate.achieved),
      ]);
    }
  }
  const c = params.connections;
  const rate = count(params.rate);
  return table(
    ['subject', 'round', `req/s @ ${c}`, `p50 @ ${c}`, `p99 @ ${c}`, 'p50 @ 1 conn', `p50 @ ${rate}/s`, `p99 @ ${rate}/s`, 'achieved req/s'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

/**
 * The targets the issues set, checked against this run. `threshold` null: the issue names the ratio but the
 * bench was given no figure for it, so the row shows the measurement without a verdict.
 */
/** The thresholds the issues set (data-plane, auth and AI issues), checked against this run. */
export const TARGETS = {
  plainVsMinimal: 1.0,
  plainVsNginx: 0.35,
  plainAddedP50Ms: 0.2,
  plainAddedP99Ms: 1,
  plainRssMiB: 150,
  authVsPlain: 0.85,
  aiVsPortkey: 5,
  aiVsPlain: 0.8,
  aiAddedP99Ms: 1,
  ttftAddedMs: 0.5,
};

/** A figure with its threshold: `at least` or `under`. */
function checked(label, value, shown, threshold, atLeast, unit = '') {
  const ok = value === null || value === undefined || Number.isNaN(value) ? null : atLeast ? value >= threshold : value < threshold;
  return [label, shown, `${atLeast ? '≥' : '<'} ${threshold}${unit}`, verdict(ok)];
}

function verdict(ok) {
  if (ok === null || ok === undefined) return DASH;
  return ok ? 'met' : '**not met**';
}

function addedUs(us, baseUs) {
  return typeof us === 'number' && typeof baseUs === 'number' ? us - baseUs : null;
}

/** The issues' tables: auth rows against plain Keygate, the AI route against Portkey, time to first token, targets. */
export function issueTables(results, params) {
  const byName = new Map(results.map((r) => [r.name, r]));
  const s = (name) => byName.get(name)?.summary;
  const plain = s('keygate');
  const portkey = s('portkey');
  const direct = s('direct');
  const rate = count(params.rate);

  const authRows = results
    .filter((r) => r.group === 'auth')
    .map((r) => {
      if (!r.summary) return [r.name, r.alg ?? DASH, 'not available', DASH, DASH, DASH, DASH, DASH];
      const x = r.summary;
      const ok = plain?.rps ? x.rps / plain.rps >= TARGETS.authVsPlain : null;
      return [r.name, r.alg, count(x.rps), ratio(x.rps, plain?.rps), addedMs(x.singleP50Us, plain?.singleP50Us), ms(x.rateP99Us), addedMs(x.rateP99Us, plain?.rateP99Us), verdict(ok)];
    });
  const auth = table(
    ['subject', 'alg', 'req/s', '× keygate', 'p50 @ 1 conn vs keygate', `p99 @ ${rate}/s`, 'p99 vs keygate', `≥ ${TARGETS.authVsPlain}× keygate`],
    authRows,
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
  );

  const aiRows = results
    .filter((r) => r.group === 'ai' || r.name === 'portkey')
    .map((r) => {
      if (!r.summary) return [r.name, 'not available', DASH, DASH, DASH, DASH, DASH, DASH];
      const x = r.summary;
      const isPortkey = r.name === 'portkey';
      return [r.name, count(x.rps), isPortkey ? DASH : ratio(x.rps, portkey?.rps), ms(x.p99Us), isPortkey ? DASH : ratio(x.p99Us, portkey?.p99Us), ms(x.rateP99Us), isPortkey ? DASH : ratio(x.rateP99Us, portkey?.rateP99Us), count(x.achieved)];
    });
  const ai = table(
    ['subject', 'req/s', '× portkey', `p99 @ ${params.connections}`, `p99 × portkey`, `p99 @ ${rate}/s`, `p99 @ ${rate}/s × portkey`, 'achieved req/s'],
    aiRows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );

  const directTtft = byName.get('direct')?.ttft;
  const directStarted = byName.get('direct')?.ttftStarted;
  const ttftRows = results
    .filter((r) => r.ttft !== undefined)
    .map((r) => {
      const t = r.ttft;
      const isDirect = r.name === 'direct';
      const started = r.ttftStarted && !r.ttftStarted.error ? [ms(r.ttftStarted.p50Us), isDirect ? DASH : addedMs(r.ttftStarted.p50Us, directStarted?.p50Us)] : [DASH, DASH];
      if (!t || t.error) return [r.name, 'not measured', DASH, DASH, DASH, DASH, DASH, t?.error ?? DASH, ...started];
      return [
        r.name,
        count(t.samples),
        ms(t.p50Us),
        isDirect ? DASH : addedMs(t.p50Us, directTtft?.p50Us),
        ms(t.p99Us),
        isDirect ? DASH : addedMs(t.p99Us, directTtft?.p99Us),
        ms(t.headP50Us),
        `${ms(t.lastP50Us)}${t.errors ? `; ${count(t.errors)} failed (${t.firstError})` : ''}`,
        ...started,
      ];
    });
  const ttft = table(
    ['subject', 'samples', 'first event p50', 'added p50', 'first event p99', 'added p99', 'response head p50', 'whole stream p50', 'just started: p50', 'just started: added'],
    ttftRows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );

  // Every figure the issues name, with a verdict where the issue gave a threshold.
  const targets = [];
  const keygateRss = byName.get('keygate')?.peakRss;
  const minimal = s('minimal-proxy');
  const nginx = s('nginx');
  const div = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);
  const addedMsValue = (a, b) => (typeof a === 'number' && typeof b === 'number' ? (a - b) / 1000 : null);
  targets.push(checked('plain proxy req/s × minimal proxy', div(plain?.rps, minimal?.rps), ratio(plain?.rps, minimal?.rps), TARGETS.plainVsMinimal, true, '×'));
  targets.push(checked('plain proxy req/s × nginx', div(plain?.rps, nginx?.rps), ratio(plain?.rps, nginx?.rps), TARGETS.plainVsNginx, true, '×'));
  targets.push(checked('plain proxy added p50 @ 1 connection', addedMsValue(plain?.singleP50Us, direct?.singleP50Us), addedMs(plain?.singleP50Us, direct?.singleP50Us), TARGETS.plainAddedP50Ms, false, ' ms'));
  targets.push(checked(`plain proxy added p99 @ ${rate} req/s`, addedMsValue(plain?.rateP99Us, direct?.rateP99Us), addedMs(plain?.rateP99Us, direct?.rateP99Us), TARGETS.plainAddedP99Ms, false, ' ms'));
  targets.push(checked('plain proxy peak RSS (one worker)', typeof keygateRss === 'number' ? keygateRss / 1024 / 1024 : null, mib(keygateRss), TARGETS.plainRssMiB, false, ' MiB'));
  for (const r of results.filter((x) => x.group === 'auth')) {
    const value = r.summary && plain?.rps ? r.summary.rps / plain.rps : null;
    targets.push([`JWT ${r.alg} + rate limit req/s × plain`, value === null ? DASH : `${value.toFixed(2)}×`, `≥ ${TARGETS.authVsPlain}×`, verdict(value === null ? null : value >= TARGETS.authVsPlain)]);
  }
  const aiRun = results.find((x) => x.group === 'ai')?.summary;
  const aiRatio = aiRun?.rps && portkey?.rps ? aiRun.rps / portkey.rps : null;
  targets.push(['AI route req/s × Portkey', aiRatio === null ? DASH : `${aiRatio.toFixed(2)}×`, `≥ ${TARGETS.aiVsPortkey}×`, verdict(aiRatio === null ? null : aiRatio >= TARGETS.aiVsPortkey)]);
  targets.push([`AI route p99 @ ${params.connections} connections vs Portkey`, `${ms(aiRun?.p99Us)} vs ${ms(portkey?.p99Us)}`, 'lower', verdict(aiRun?.p99Us && portkey?.p99Us ? aiRun.p99Us < portkey.p99Us : null)]);
  targets.push(checked('AI route req/s × plain proxied route', div(aiRun?.rps, plain?.rps), ratio(aiRun?.rps, plain?.rps), TARGETS.aiVsPlain, true, '×'));
  targets.push(checked(`AI route added p99 @ ${rate} req/s`, addedMsValue(aiRun?.rateP99Us, direct?.rateP99Us), addedMs(aiRun?.rateP99Us, direct?.rateP99Us), TARGETS.aiAddedP99Ms, false, ' ms'));
  targets.push([`AI route p99 @ ${rate} req/s vs Portkey`, `${ms(aiRun?.rateP99Us)} vs ${ms(portkey?.rateP99Us)}`, DASH, DASH]);
  for (const r of results.filter((x) => x.ttft && !x.ttft.error && x.name !== 'direct')) {
    const added = addedUs(r.ttft.p50Us, directTtft?.p50Us);
    const isKeygate = r.group === 'ai';
    targets.push([
      `${r.name} added time to first token (p50; p99)`,
      `${addedMs(r.ttft.p50Us, directTtft?.p50Us)}; ${addedMs(r.ttft.p99Us, directTtft?.p99Us)}` +
        (r.ttftStarted && !r.ttftStarted.error ? ` (just started: ${addedMs(r.ttftStarted.p50Us, directStarted?.p50Us)})` : ''),
      isKeygate ? `< ${TARGETS.ttftAddedMs} ms` : DASH,
      isKeygate ? verdict(added === null ? null : added / 1000 < TARGETS.ttftAddedMs) : DASH,
    ]);
  }
  const targetTable = table(['figure', 'this run', 'target', 'verdict'], targets, ['l', 'r', 'l', 'l']);
  return { auth, ai, ttft, targets: targetTable };
}

/** How much of the machine other programs used while each subject was measured. */
export function busyTable(results) {
  return table(
    ['subject', "others' share of CPU time"],
    results.map((r) => [r.name, typeof r.othersShare === 'number' ? `${Math.round(r.othersShare * 100)}%` : DASH]),
    ['l', 'r'],
  );
}
