import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { need, orgFilter } from '../auth.ts';

const query = z.object({
  since: z.iso.datetime({ offset: true }).optional(),
  reason: z.string().optional(),
  deviceId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export async function rejectedUplinkRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get('/api/v1/rejected-uplinks', { schema: { tags: ['ingest'], querystring: query } }, async (req) => {
    const p = need(req, 'read');
    const q = req.query;
    // a municipality's token sees the rejections stamped with its org when they were stored (its devices then);
    // those of unknown devices only installation-wide tokens [issue 11]
    const org = orgFilter(p);
    const r = await ctx.db.query<{
      id: number;
      received_at: Date;
      topic: string;
      payload: string;
      payload_encoding: string;
      payload_bytes: number;
      reason: string;
      message: string;
      device_id: string | null;
      client_id: string | null;
      org: string | null;
    }>(
      `select * from rejected_uplinks where ($1::timestamptz is null or received_at >= $1) and ($2::text is null or reason = $2)
       and ($3::text is null or device_id = $3) and ($5::text is null or org = $5) order by id desc limit $4`,
      [q.since ?? null, q.reason ?? null, q.deviceId ?? null, q.limit, org],
    );
    return {
      items: r.rows.map((x) => ({
        id: x.id,
        time: new Date(x.received_at).toISOString(),
        topic: x.topic,
        reason: x.reason,
        message: x.message,
        deviceId: x.device_id,
        org: x.org,
        clientId: x.client_id,
        payload: x.payload,
        payloadEncoding: x.payload_encoding,
        payloadBytes: x.payload_bytes,
      })),
    };
  });
}
