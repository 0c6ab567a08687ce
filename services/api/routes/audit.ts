import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { need, orgFilter } from '../auth.ts';

export async function auditRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/api/v1/audit',
    {
      schema: {
        tags: ['access'],
        querystring: z.object({
          since: z.iso.datetime({ offset: true }).optional(),
          entity: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (req) => {
      const p = need(req, 'audit:read');
      // A municipality's token sees the changes made with its municipality's tokens (actor "name#tokenId").
      const r = await ctx.db.query<{ id: number; at: Date; actor: string; action: string; entity: string; entity_id: string | null; details: unknown }>(
        `select * from audit_log where ($1::timestamptz is null or at >= $1) and ($2::text is null or entity = $2)
         and ($4::text is null or actor in (select name || '#' || id from api_tokens where org = $4)) order by id desc limit $3`,
        [req.query.since ?? null, req.query.entity ?? null, req.query.limit, orgFilter(p)],
      );
      return {
        items: r.rows.map((x) => ({
          id: x.id,
          at: new Date(x.at).toISOString(),
          actor: x.actor,
          action: x.action,
          entity: x.entity,
          entityId: x.entity_id,
          details: x.details,
        })),
      };
    },
  );
}
