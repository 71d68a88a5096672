import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Store } from '../store/index.js';
import { rangeOf } from './time-range.js';
import { DEFAULT_PAGE, MAX_PAGE, idOf, pageOf, pageSize } from './page-cursor.js';

export interface AuditRoutesContext {
  store: Store;
}

/** The audit log: every change made through the admin API, the CLI or a background job, newest first. */
export function registerAuditRoutes(server: FastifyInstance, ctx: AuditRoutesContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/audit', {
    schema: {
      tags: ['system'],
      summary: 'The audit log: every change to keys, config, apps, teams and provider keys, who made it and when, newest first, a page at a time',
      querystring: Type.Object(
        {
          action: Type.Optional(Type.String({ description: 'e.g. key.rotate, team.put, provider_key.add' })),
          target: Type.Optional(Type.String({ description: 'what the change was made to: a kid, a name' })),
          actor: Type.Optional(Type.String({ description: 'who made it: admin@<address>, or a job' })),
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$', description: `entries a page holds, 1 to ${MAX_PAGE} (${DEFAULT_PAGE} by default)` })),
          before: Type.Optional(Type.String({ description: 'the `next` of the page before' })),
        },
        { additionalProperties: false },
      ),
    },
  }, async (request) => {
    const q = request.query;
    const limit = pageSize(q.limit);
    let query = ctx.store.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(limit + 1);
    for (const name of ['action', 'target', 'actor'] as const) if (q[name] !== undefined) query = query.where(name, '=', q[name]);
    const { from, to } = rangeOf(q);
    if (from !== undefined) query = query.where('at', '>=', from);
    if (to !== undefined) query = query.where('at', '<', to);
    if (q.before !== undefined) query = query.where('id', '<', idOf(q.before));
    const rows = await query.execute();
    const page = pageOf(rows, limit);
    return {
      entries: page.rows.map((r) => ({
        at: new Date(Number(r.at)).toISOString(),
        actor: r.actor,
        action: r.action,
        target: r.target,
        detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
      })),
      next: page.next,
    };
  });
}
