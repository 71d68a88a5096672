import { AdminClient, CliError } from './admin-client.js';
import { barChart, bar, textTable } from './bar-chart.js';
import { parseCommandArgs, refuseExtraArguments } from './parse-command-args.js';

export const AI_USAGE = `keygate ai — the AI gateway's usage, spend and budgets on a running node

  keygate ai usage [--group-by app|team|model|provider|route|status|credential] [--interval hour|day|month]
                   [--from TIME] [--to TIME] [--app A] [--team T] [--model M] [--credential K] [--json]
  keygate ai budgets [--app A] [--team T] [--json]
  keygate ai calls [--from TIME] [--to TIME] [--app A] [--team T] [--credential K] [--route R] [--provider P]
                   [--model M] [--status N] [--request-id ID] [--limit N] [--before C] [--json]

Each option is the query parameter of the admin API's GET /ai/usage, /ai/budgets or /ai/calls. TIME is an RFC 3339
date-time (2026-12-01T00:00:00Z), --from included and --to not; K an API key's id. An empty filter (--provider=)
asks for the records without one. On a large log, bound a --request-id look-up with --from and --to: request ids
are not indexed, times are. Usage prints a table and a chart of the spend; budgets, each limit with what is spent
of it; calls, the latest calls first.

Connection: --admin-url (KEYGATE_ADMIN_URL, default http://127.0.0.1:<KEYGATE_ADMIN_PORT, else 8081>); the token from
KEYGATE_ADMIN_TOKEN or <data-dir>/admin-token (--data-dir, KEYGATE_DATA_DIR, default ./data).`;

const OPTIONS = {
  'admin-url': { type: 'string' },
  'data-dir': { type: 'string' },
  'group-by': { type: 'string' },
  interval: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  app: { type: 'string' },
  team: { type: 'string' },
  model: { type: 'string' },
  credential: { type: 'string' },
  route: { type: 'string' },
  provider: { type: 'string' },
  status: { type: 'string' },
  'request-id': { type: 'string' },
  limit: { type: 'string' },
  before: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/**
 * Which options each subcommand takes: the query parameters of its admin API endpoint (src/admin/ai-usage-routes.ts,
 * ai-call-routes.ts), no more and no fewer; the others are refused rather than ignored.
 */
export const TAKES: Readonly<Record<string, readonly string[]>> = {
  usage: ['group-by', 'interval', 'from', 'to', 'app', 'team', 'model', 'credential'],
  budgets: ['app', 'team'],
  calls: ['from', 'to', 'app', 'team', 'credential', 'route', 'provider', 'model', 'status', 'request-id', 'limit', 'before'],
};

interface UsageRow {
  period?: string;
  calls: number;
  failedCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  [group: string]: unknown;
}

interface Standing {
  limitUsd: number | null;
  spentUsd: number;
  remainingUsd: number | null;
  resetsAt: string;
}

interface Budgets {
  teams: Array<{ name: string; daily: Standing; monthly: Standing }>;
  apps: Array<{ name: string; team: string; daily: Standing; monthly: Standing; tokensPerMinute: number | null }>;
}

interface LoggedCall {
  requestId: string;
  at: string;
  app: string | null;
  model: string;
  provider: string | null;
  status: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
}

/**
 * Dollars as people read them, precise enough to agree with the admin API and with each other ($0.0149 of $0.02,
 * $0.0051 left, not $0.01 of $0.02): to a hundredth of a cent, and to four significant digits below a dime (AI calls
 * cost fractions of a cent), trailing zeros cut down to whole cents ($12.50, $1,234.5678, $0.0149, $0.000000025). A
 * non-zero amount never reads $0.00, and none is written in JavaScript's exponent form ($2.5e-8).
 */
export function dollars(usd: number): string {
  const text = usd >= 0.1 || usd === 0 ? usd.toFixed(4) : fourSignificantDigits(usd);
  const [whole, fraction = ''] = text.split('.');
  return `$${whole!.replace(/\B(?=(\d{3})+$)/g, ',')}.${fraction.replace(/0+$/, '').padEnd(2, '0')}`;
}

/** An amount below a dime to four significant digits, in decimals however small: 0.0000775, not 7.750e-5. */
function fourSignificantDigits(usd: number): string {
  const [mantissa, exponent] = usd.toExponential(3).split('e');
  return `0.${'0'.repeat(-Number(exponent) - 1)}${mantissa!.replace('.', '')}`;
}

const count = (n: number): string => n.toLocaleString('en-US');

/** `keygate ai …`: one admin API call each; a table and a chart, or JSON with --json. */
export async function aiCommand(args: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, AI_USAGE);
  const [sub] = positionals;
  refuseExtraArguments(positionals, 1, AI_USAGE);
  if (sub === undefined || sub === 'help') return out(AI_USAGE);
  const takes = TAKES[sub];
  if (!takes) throw new CliError(`unknown subcommand "${sub}"\n\n${AI_USAGE}`, 2);
  const given = Object.keys(values).filter((name) => !['admin-url', 'data-dir', 'json'].includes(name));
  const stray = given.find((name) => !takes.includes(name));
  if (stray) throw new CliError(`keygate ai ${sub} takes no --${stray}\n\n${AI_USAGE}`, 2);
  const query = new URLSearchParams();
  const names: Record<string, string> = { 'group-by': 'groupBy', 'request-id': 'requestId' };
  for (const name of given) query.set(names[name] ?? name, String(values[name as keyof typeof values]));
  const client = AdminClient.fromEnvironment(env, values);
  const path = `/ai/${sub}${query.size > 0 ? `?${query.toString()}` : ''}`;
  const answer = await client.request<unknown>('GET', path);
  if (values.json) return out(JSON.stringify(answer, null, 2));
  const lines = sub === 'usage' ? usageLines(answer as { groupBy: string; interval?: string; rows: UsageRow[] }) : sub === 'budgets' ? budgetLines(answer as Budgets) : callLines(answer as { calls: LoggedCall[]; next: string | null });
  for (const line of lines) out(line);
}

function usageLines({ groupBy, interval, rows }: { groupBy: string; interval?: string; rows: UsageRow[] }): string[] {
  if (rows.length === 0) return ['no AI calls recorded for this query'];
  const periodOf = (row: UsageRow) => (interval === 'hour' ? row.period!.slice(0, 13) + 'h' : interval === 'month' ? row.period!.slice(0, 7) : row.period!.slice(0, 10));
  const keyOf = (row: UsageRow) => (row[groupBy] === null ? '(none)' : String(row[groupBy]));
  const heading = [...(interval ? ['PERIOD'] : []), groupBy.toUpperCase(), 'CALLS', 'FAILED', 'TOKENS IN', 'TOKENS OUT', 'COST'];
  const body = rows.map((row) => [...(interval ? [periodOf(row)] : []), keyOf(row), count(row.calls), count(row.failedCalls), count(row.inputTokens), count(row.outputTokens), dollars(row.costUsd)]);
  const first = interval ? 2 : 1;
  const table = textTable([heading, ...body], new Set([first, first + 1, first + 2, first + 3, first + 4]));
  // The chart: spend per period (all groups together) over a series, else per group.
  const spend = new Map<string, number>();
  for (const row of rows) {
    const label = interval ? periodOf(row) : keyOf(row);
    spend.set(label, (spend.get(label) ?? 0) + row.costUsd);
  }
  const title = interval ? `Spend per ${interval}` : `Spend by ${groupBy}`;
  const total = rows.reduce((sum, row) => sum + row.costUsd, 0);
  return [...table, '', `${title} (${dollars(total)} in all)`, ...barChart([...spend].map(([label, usd]) => ({ label, value: usd, note: dollars(usd) })))];
}

/** One limit: a bar of what is spent of it, or the spend alone where there is no limit. */
function standingLine(period: string, s: Standing): string {
  const resets = `resets ${s.resetsAt.slice(0, 16)}Z`;
  if (s.limitUsd === null) return `  ${period}  ${' '.repeat(30)}  ${dollars(s.spentUsd)} spent, no limit`;
  const share = s.limitUsd > 0 ? Math.round((s.spentUsd / s.limitUsd) * 100) : 100;
  return `  ${period}  ${bar(s.spentUsd, s.limitUsd, 30).padEnd(30, '·')}  ${dollars(s.spentUsd)} of ${dollars(s.limitUsd)} (${share}%), ${dollars(s.remainingUsd ?? 0)} left, ${resets}`;
}

function budgetLines({ teams, apps }: Budgets): string[] {
  if (teams.length === 0 && apps.length === 0) return ['no app or team has a budget'];
  const lines: string[] = [];
  for (const team of teams) lines.push(`team ${team.name}`, standingLine('today', team.daily), standingLine('month', team.monthly));
  for (const app of apps) {
    const rate = app.tokensPerMinute === null ? '' : `, ${count(app.tokensPerMinute)} tokens a minute`;
    lines.push(`app ${app.name} (team ${app.team}${rate})`, standingLine('today', app.daily), standingLine('month', app.monthly));
  }
  return lines;
}

function callLines({ calls, next }: { calls: LoggedCall[]; next: string | null }): string[] {
  if (calls.length === 0) return ['no AI calls recorded for this query'];
  const rows = calls.map((c) => [c.at.slice(0, 19) + 'Z', c.requestId, c.app ?? '-', c.provider ? `${c.provider}/${c.model}` : c.model, String(c.status), `${count(c.inputTokens)}/${count(c.outputTokens)}`, dollars(c.costUsd), `${count(c.latencyMs)} ms`]);
  const table = textTable([['TIME', 'REQUEST ID', 'APP', 'MODEL', 'STATUS', 'TOKENS IN/OUT', 'COST', 'LATENCY'], ...rows], new Set([4, 5, 6, 7]));
  return next === null ? table : [...table, '', `more: keygate ai calls … --before ${next}`];
}
