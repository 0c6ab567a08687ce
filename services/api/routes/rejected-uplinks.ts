// Uplinks the pipeline refused, with the reason. [docs/topics.md Rejected uplinks]
import { z } from 'zod';
import { listRejectedUplinks } from '../../ingest/rejected-uplinks.ts';
import { need, orgFilter } from '../auth.ts';
import type { ApiRoutes } from '../plugin.ts';
import { isoTime } from '../schemas.ts';

const query = z.object({
  since: isoTime.optional(),
  reason: z.string().optional(),
  deviceId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const rejectedUplinkRoutes: ApiRoutes = async (app, { ctx }) => {
  app.get('', { schema: { tags: ['ingest'], querystring: query } }, async (req) => {
    const p = need(req, 'read');
    // a municipality's token sees the rejections stamped with its org when they were stored (its devices then);
    // those of unknown devices only installation-wide tokens [issue 11]
    return { items: await listRejectedUplinks(ctx.db, { ...req.query, org: orgFilter(p) }) };
  });
};
