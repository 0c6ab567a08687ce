// The audit log: who changed what, when. [docs/api.md Endpoints]
import { z } from 'zod';
import { listAudit } from '../../audit-store.ts';
import { need, orgFilter } from '../auth.ts';
import type { ApiRoutes } from '../plugin.ts';
import { dbId, isoTime, itemsOf, responses } from '../schemas.ts';

const entry = z.object({
  id: dbId,
  at: z.string(),
  actor: z.string().describe('token name#id, or web:login'),
  action: z.string(),
  entity: z.string(),
  entityId: z.string().nullable(),
  details: z.unknown().describe('the change, secrets redacted'),
});

const query = z.object({
  since: isoTime.optional(),
  entity: z.string().optional(),
  /** a part of the actor, e.g. a console user's login */
  actor: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const auditRoutes: ApiRoutes = async (app, { ctx }) => {
  app.get(
    '',
    { schema: { tags: ['access'], summary: 'Who changed what, when (newest first)', querystring: query, response: responses({ 200: itemsOf(entry) }) } },
    async (req) => {
      const p = need(req, 'audit:read');
      // A municipality's token sees the changes made with its municipality's tokens and by its console users.
      return { items: await listAudit(ctx.db, { ...req.query, org: orgFilter(p) }) };
    },
  );
};
