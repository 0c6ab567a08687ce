// Uplinks the pipeline refused, with the reason. [docs/topics.md Rejected uplinks]
import { z } from 'zod';
import { listRejectedUplinks } from '../../ingest/rejected-uplinks.ts';
import { need, orgFilter } from '../auth.ts';
import type { ApiRoutes } from '../plugin.ts';
import { dbId, isoTime, itemsOf, responses } from '../schemas.ts';

const rejected = z.object({
  id: dbId,
  time: z.string(),
  topic: z.string(),
  reason: z.string().describe('e.g. unknown_device, decode_error, codec_timeout (docs/topics.md)'),
  message: z.string(),
  deviceId: z.string().nullable(),
  org: z.string().nullable(),
  clientId: z.string().nullable(),
  payload: z.string(),
  payloadEncoding: z.string().describe('utf8 or base64'),
  payloadBytes: z.number().int(),
});

const query = z.object({
  since: isoTime.optional(),
  reason: z.string().optional(),
  deviceId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const rejectedUplinkRoutes: ApiRoutes = async (app, { ctx }) => {
  app.get(
    '',
    {
      schema: {
        tags: ['ingest'],
        summary: 'Uplinks that were refused, with the reason (newest first)',
        querystring: query,
        response: responses({ 200: itemsOf(rejected) }),
      },
    },
    async (req) => {
      const p = need(req, 'read');
      // a municipality's token sees the rejections stamped with its org when they were stored (its devices then);
      // those of unknown devices only installation-wide tokens [issue 11]
      return { items: await listRejectedUplinks(ctx.db, { ...req.query, org: orgFilter(p) }) };
    },
  );
};
