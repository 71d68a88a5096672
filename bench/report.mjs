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
