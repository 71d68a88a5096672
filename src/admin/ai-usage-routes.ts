import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { periodStart } from '../ai/spend-tracker.js';
import type { CatalogService } from '../catalog/index.js';
import type { Clock } from '../clock.js';
import { KeygateError } from '../errors.js';
import type { Store } from '../store/index.js';
import { StringEnum } from './schemas.js';
import { rangeOf } from './time-range.js';

export interface AiUsageRoutesContext {
  store: Store;
  clock: Clock;
  /** Apps and teams, with their budgets: the catalog module's tables. */
  catalog: CatalogService;
}

const GROUPS = ['app', 'team', 'model', 'provider', 'route', 'status', 'credential'] as const;
type Group = (typeof GROUPS)[number];
const INTERVALS = ['hour', 'day', 'month'] as const;
type Interval = (typeof INTERVALS)[number];

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Hours or days a series may span: 41 days of hours, 2.7 years of days (months are not bounded: there are few). */
const MAX_PERIODS = 1_000;

/** Sums of one group (and period) as the store gives them: PostgreSQL's bigint sums come back as text. */
interface SummedRow {
  key: string | number | null;
  bucket?: string | number;
  calls: string | number;
  failedCalls: string | number | null;
  inputTokens: string | number | null;
  outputTokens: string | number | null;
  cachedTokens: string | number | null;
  costUsd: string | number | null;
  estimatedCalls: string | number | null;
  cacheHits: string | number | null;
  latencySum: string | number | null;
  ttftSum: string | number | null;
  ttftCount: string | number | null;
}

interface Sums {
  key: string | number | null;
  period?: number;
  calls: number;
  failedCalls: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costUsd: number;
  estimatedCalls: number;
  cacheHits: number;
  latencySum: number;
  ttftSum: number;
  ttftCount: number;
}

const SUMMED = ['calls', 'failedCalls', 'inputTokens', 'outputTokens', 'cachedTokens', 'costUsd', 'estimatedCalls', 'cacheHits', 'latencySum', 'ttftSum', 'ttftCount'] as const;

const usd = (value: number): number => Math.round(value * 1e9) / 1e9;

/** Usage of AI calls summed per group and period, and where each budget stands. */
export function registerAiUsageRoutes(server: FastifyInstance, ctx: AiUsageRoutesContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['ai'];

  app.get('/ai/usage', {
    schema: {
      tags,
      summary: 'Usage and spend of AI calls, grouped by app, team, model, provider, route, status or API key over a period, and per hour, day or month; failed calls count, with no tokens and no cost but for the parts of an embeddings request a provider answered before one failed',
      querystring: Type.Object(
        {
          groupBy: Type.Optional(StringEnum(GROUPS)),
          interval: Type.Optional(StringEnum(INTERVALS, { description: 'one row per group and UTC hour, day or month, with its start as `period`' })),
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          app: Type.Optional(Type.String()),
          team: Type.Optional(Type.String()),
          model: Type.Optional(Type.String()),
          credential: Type.Optional(Type.String({ description: "an API key's id: the calls made with it" })),
        },
        { additionalProperties: false },
      ),
    },
  }, async (request) => {
    const q = request.query;
    const group = q.groupBy ?? 'app';
    const { from, to } = rangeOf(q);
    if (q.interval) checkSeries(q.interval, from, to ?? ctx.clock.now());
    const rows = await summed(ctx.store, group, q.interval, from, to, q);
    const sums = q.interval === 'month' ? byMonth(rows) : rows;
    sums.sort(inOrder);
    return {
      groupBy: group,
      ...(q.interval ? { interval: q.interval } : {}),
      rows: sums.map((s) => ({
        ...(s.period === undefined ? {} : { period: new Date(s.period).toISOString() }),
        [group]: s.key,
        calls: s.calls,
        failedCalls: s.failedCalls,
        inputTokens: s.inputTokens,
        outputTokens: s.outputTokens,
        cachedTokens: s.cachedTokens,
        costUsd: usd(s.costUsd),
        estimatedCalls: s.estimatedCalls,
        cacheHits: s.cacheHits,
        avgLatencyMs: s.calls === 0 ? null : Math.round(s.latencySum / s.calls),
        avgTtftMs: s.ttftCount === 0 ? null : Math.round(s.ttftSum / s.ttftCount),
      })),
    };
  });

  app.get('/ai/budgets', {
    schema: {
      tags,
      summary: "Where each app's and team's AI budget stands: its limits, what was spent this UTC day and month, what is left and when each resets",
      querystring: Type.Object({ app: Type.Optional(Type.String()), team: Type.Optional(Type.String()) }, { additionalProperties: false }),
    },
  }, async (request) => budgets(ctx, request.query.app, request.query.team));
}

/** A series of `interval`s from `from` to `to`: hours and days need a start, and no series more than MAX_PERIODS long. */
function checkSeries(interval: Interval, from: number | undefined, to: number): void {
  if (interval === 'month') return;
  if (from === undefined) throw new KeygateError('invalid_request', `interval=${interval} needs a start: give from (RFC 3339)`);
  const periods = Math.ceil((to - from) / (interval === 'hour' ? HOUR_MS : DAY_MS));
  if (periods > MAX_PERIODS) throw new KeygateError('invalid_request', `from and to span ${periods} ${interval}s; a series holds at most ${MAX_PERIODS}: narrow the range or take a longer interval`);
}

async function summed(store: Store, group: Group, interval: Interval | undefined, from: number | undefined, to: number | undefined, filters: { app?: string; team?: string; model?: string; credential?: string }): Promise<Sums[]> {
  // Months are folded from days (below): a calendar month is no fixed length, and SQLite and PostgreSQL name them differently.
  const size = interval === 'hour' ? HOUR_MS : interval ? DAY_MS : undefined;
  let query = store.db
    .selectFrom('ai_usage')
    .select([
      sql<string | number | null>`${sql.ref(group)}`.as('key'),
      (eb) => eb.fn.countAll<number>().as('calls'),
      (eb) => eb.fn.sum<number>(eb.case().when('status', '>=', 400).then(1).else(0).end()).as('failedCalls'),
      (eb) => eb.fn.sum<number>('input_tokens').as('inputTokens'),
      (eb) => eb.fn.sum<number>('output_tokens').as('outputTokens'),
      (eb) => eb.fn.sum<number>('cached_tokens').as('cachedTokens'),
      (eb) => eb.fn.sum<number>('cost_usd').as('costUsd'),
      (eb) => eb.fn.sum<number>('estimated').as('estimatedCalls'),
      (eb) => eb.fn.sum<number>('cache_hit').as('cacheHits'),
      // Sums and counts, not averages: a month's average is its days' sums over their counts.
      (eb) => eb.fn.sum<number>('latency_ms').as('latencySum'),
      (eb) => eb.fn.sum<number>('ttft_ms').as('ttftSum'),
      (eb) => eb.fn.count<number>('ttft_ms').as('ttftCount'),
    ])
    .groupBy(group);
  if (size !== undefined) {
    // The period's first millisecond; `at` is never negative, so integer division is the floor on both stores.
    const bucket = sql<string | number>`(${sql.ref('at')} / ${sql.lit(size)}) * ${sql.lit(size)}`;
    query = query.select(bucket.as('bucket')).groupBy(bucket);
  }
  if (from !== undefined) query = query.where('at', '>=', from);
  if (to !== undefined) query = query.where('at', '<', to);
  // An empty filter asks for the records without one (a route without auth has no app), not for every record; a
  // record without a model (a body no model could be read from) has an empty one.
  for (const name of ['app', 'team', 'credential'] as const) {
    const value = filters[name];
    if (value !== undefined) query = value === '' ? query.where(name, 'is', null) : query.where(name, '=', value);
  }
  if (filters.model !== undefined) query = query.where('model', '=', filters.model);
  const rows = (await query.execute()) as SummedRow[];
  return rows.map((r) => {
    const sums = { key: group === 'status' && r.key !== null ? Number(r.key) : r.key } as Sums;
    for (const name of SUMMED) sums[name] = Number(r[name] ?? 0);
    if (r.bucket !== undefined) sums.period = Number(r.bucket);
    return sums;
  });
}

/** Days' sums folded into their UTC months. */
function byMonth(days: readonly Sums[]): Sums[] {
  const months = new Map<string, Sums>();
  for (const day of days) {
    const period = periodStart('month', day.period!);
    const id = `${period}\n${String(day.key)}`;
    const month = months.get(id);
    if (!month) {
      months.set(id, { ...day, period });
      continue;
    }
    for (const name of SUMMED) month[name] += day[name];
  }
  return [...months.values()];
}

/** Period first, then the group's key, records without one first: the same order on both stores. */
function inOrder(a: Sums, b: Sums): number {
  if ((a.period ?? 0) !== (b.period ?? 0)) return (a.period ?? 0) - (b.period ?? 0);
  if (a.key === b.key) return 0;
  if (a.key === null) return -1;
  if (b.key === null) return 1;
  return a.key < b.key ? -1 : 1;
}

interface Standing {
  limitUsd: number | null;
  spentUsd: number;
  remainingUsd: number | null;
  resetsAt: string;
}

interface Spent {
  day: number;
  month: number;
}

type Budget = { dailyUsd?: number; monthlyUsd?: number; tokensPerMinute?: number } | undefined;

const hasBudget = (budget: Budget): boolean => budget !== undefined && (budget.dailyUsd !== undefined || budget.monthlyUsd !== undefined || budget.tokensPerMinute !== undefined);

/**
 * Every app and team with a budget (or the one asked for, and with `team` its apps), with the spend the budget
 * checks read: the store's daily sums of recorded calls (each node writes its records within a second).
 */
async function budgets(ctx: AiUsageRoutesContext, appName: string | undefined, teamName: string | undefined) {
  const now = ctx.clock.now();
  const { teams: teamsFound, apps: appsFound } = await ctx.catalog.budgetsOf({ app: appName, team: teamName });
  if (appName !== undefined && appsFound.length === 0) throw new KeygateError('not_found', teamName === undefined ? `no app is named "${appName}"` : `no app named "${appName}" is in team "${teamName}"`);
  if (teamName !== undefined && teamsFound.length === 0) throw new KeygateError('not_found', `no team is named "${teamName}"`);
  const named = appName !== undefined || teamName !== undefined;
  const apps = appsFound.filter((a) => named || hasBudget(a.budget));
  // With an app asked for, its team; otherwise the team asked for, or every team with a budget.
  const teams = teamsFound.filter((t) => (appName !== undefined ? apps.some((a) => a.team === t.name) : named || hasBudget(t.budget)));

  const day = periodStart('day', now);
  const month = periodStart('month', now);
  const spent = await spentSince(ctx.store, month, day, named ? { apps: apps.map((a) => a.name), teams: teams.map((t) => t.name) } : undefined);
  const nextDay = day + DAY_MS;
  const monthDate = new Date(month);
  const nextMonth = Date.UTC(monthDate.getUTCFullYear(), monthDate.getUTCMonth() + 1, 1);
  const standing = (limit: number | undefined, usdSpent: number, resets: number): Standing => ({
    limitUsd: limit ?? null,
    spentUsd: usd(usdSpent),
    remainingUsd: limit === undefined ? null : usd(Math.max(0, limit - usdSpent)),
    resetsAt: new Date(resets).toISOString(),
  });
  const periods = (budget: Budget, of: Spent | undefined) => ({
    daily: standing(budget?.dailyUsd, of?.day ?? 0, nextDay),
    monthly: standing(budget?.monthlyUsd, of?.month ?? 0, nextMonth),
  });
  return {
    at: new Date(now).toISOString(),
    teams: teams.map((t) => ({ name: t.name, ...periods(t.budget, spent.get(`team\n${t.name}`)) })),
    apps: apps.map((a) => ({ name: a.name, team: a.team, ...periods(a.budget, spent.get(`app\n${a.name}`)), tokensPerMinute: a.budget?.tokensPerMinute ?? null })),
  };
}

/**
 * Spend this month and today per app and team, from the daily sums the budget checks read: of those `only` names, or
 * of all (one row each: fewer than the names a list of every app would bind).
 */
async function spentSince(store: Store, month: number, day: number, only?: { apps: readonly string[]; teams: readonly string[] }): Promise<Map<string, Spent>> {
  const spent = new Map<string, Spent>();
  let query = store.db
    .selectFrom('ai_spend_daily')
    .select(['scope', 'name'])
    .select((eb) => [
      eb.fn.sum<number>('cost_usd').as('month'),
      eb.fn.sum<number>(eb.case().when('day', '>=', day).then(eb.ref('cost_usd')).else(0).end()).as('day'),
    ])
    .where('day', '>=', month)
    .groupBy(['scope', 'name']);
  if (only) {
    const { apps, teams } = only;
    query = query.where((eb) => eb.or([
      ...(apps.length ? [eb.and([eb('scope', '=', 'app'), eb('name', 'in', apps)])] : []),
      ...(teams.length ? [eb.and([eb('scope', '=', 'team'), eb('name', 'in', teams)])] : []),
    ]));
  }
  const rows = await query.execute();
  for (const row of rows) spent.set(`${row.scope}\n${row.name}`, { day: Number(row.day ?? 0), month: Number(row.month ?? 0) });
  return spent;
}
