import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { tryParseDuration } from '../../../alerts/rules/duration.ts';
import { isMetric, qualityFlags, unitOf } from '../../../alerts/types.ts';
import { audit } from '../../audit.ts';
import type { AppContext } from '../../context.ts';
import type { Queryable } from '../../db/db.ts';
import { normEui } from '../../devices/device-registry.ts';
import { deviceBody, euiTaken, registerDevice } from '../../devices/device-service.ts';
import { bucketedReadings, rawReadings } from '../../devices/readings.ts';
import { actor, assertOrg, need, orgFor, sees } from '../auth.ts';
import { ApiError, notFound } from '../errors.ts';

const idParam = z.object({ id: z.string() });

const durMs = (s: string) => {
  const ms = tryParseDuration(s);
  if (ms === undefined)
    throw new ApiError('VALIDATION_FAILED', `bucket '${s}' must look like 5m, 1h, 1d`, [{ path: 'querystring.bucket', message: 'bad duration' }]);
  return ms;
};

const readingsQuery = z.object({
  metric: z.string().refine(isMetric, 'unknown metric'),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  bucket: z.string().optional(),
  agg: z.enum(['avg', 'sum', 'min', 'max', 'last']).default('avg'),
  limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
});

export async function deviceRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.post('/api/v1/devices', { schema: { tags: ['devices'], body: deviceBody } }, async (req, reply) => {
    const p = need(req, 'devices:write');
    const d = await registerDevice(ctx, p, actor(p), req.body);
    return reply.code(201).send(d);
  });

  app.get('/api/v1/devices', { schema: { tags: ['devices'] } }, async (req) => {
    const p = need(req, 'read');
    return { items: ctx.devices.list().filter((d) => sees(p, d.org)) };
  });

  app.get('/api/v1/devices/:id', { schema: { tags: ['devices'], params: idParam } }, async (req) => {
    const p = need(req, 'read');
    const d = ctx.devices.get(req.params.id);
    if (!d) throw notFound('device', req.params.id);
    assertOrg(p, d.org, 'device', req.params.id);
    return { ...d, ...(await deviceHealth(ctx.db, d.id)) };
  });

  app.patch('/api/v1/devices/:id', { schema: { tags: ['devices'], params: idParam, body: deviceBody.omit({ id: true }).partial() } }, async (req) => {
    const p = need(req, 'devices:write');
    const b = req.body;
    const cur = ctx.devices.get(req.params.id);
    if (!cur) throw notFound('device', req.params.id);
    assertOrg(p, cur.org, 'device', req.params.id);
    const org = orgFor(p, b.org, cur.org);
    const devEui = b.devEui ? normEui(b.devEui) : undefined;
    if (devEui) {
      const other = ctx.devices.getByEui(devEui);
      if (other && other.id !== req.params.id) throw euiTaken(devEui, sees(p, other.org) ? other.id : undefined);
    }
    const d = await ctx.devices.update(req.params.id, { ...b, org, ...(devEui ? { devEui } : {}) } as never, (tx) =>
      audit(tx, actor(p), 'update', 'device', req.params.id, b),
    );
    if (!d) throw notFound('device', req.params.id);
    return d;
  });

  app.delete('/api/v1/devices/:id', { schema: { tags: ['devices'], params: idParam } }, async (req, reply) => {
    const p = need(req, 'devices:write');
    assertOrg(p, ctx.devices.get(req.params.id)?.org, 'device', req.params.id);
    let closed: Awaited<ReturnType<NonNullable<typeof ctx.alarms>['closeForDevice']>> = [];
    const ok = await ctx.devices.remove(req.params.id, async (tx) => {
      // its open alarms end with the device (closed, never an all-clear), while its name is still known [docs/api.md Alarms]
      closed = (await ctx.alarms?.closeForDevice(tx, req.params.id)) ?? [];
      await audit(tx, actor(p), 'delete', 'device', req.params.id);
    });
    ctx.alarms?.afterClose(closed);
    if (!ok) throw notFound('device', req.params.id);
    return reply.code(204).send();
  });

  app.get('/api/v1/devices/:id/readings', { schema: { tags: ['devices'], params: idParam, querystring: readingsQuery } }, async (req) => {
    const p = need(req, 'read');
    const d = ctx.devices.get(req.params.id);
    if (!d) throw notFound('device', req.params.id);
    assertOrg(p, d.org, 'device', req.params.id);
    const q = req.query;
    const to = q.to ? new Date(q.to) : new Date(Date.now() + 60_000);
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 86_400_000);
    if (from > to) throw new ApiError('VALIDATION_FAILED', '`from` is after `to`', [{ path: 'querystring.from', message: 'after to' }]);
    let points: { time: string; value: number; quality?: number; flags?: string[] }[];
    if (q.bucket) {
      const ms = durMs(q.bucket);
      if ((to.getTime() - from.getTime()) / ms > 100_000) throw new ApiError('VALIDATION_FAILED', 'too many buckets (> 100000); choose a larger bucket', []);
      const rows = await bucketedReadings(ctx.db, d.id, q.metric, from, to, ms, q.agg, q.limit);
      points = rows.map((x) => ({ time: x.time.toISOString(), value: x.value }));
    } else {
      const rows = await rawReadings(ctx.db, d.id, q.metric, from, to, q.limit);
      // flagged readings are stored but never evaluated; say why, by name [alerts/types.ts Quality]
      points = rows.map((x) =>
        x.quality
          ? { time: new Date(x.time).toISOString(), value: x.value, quality: x.quality, flags: qualityFlags(x.quality) }
          : { time: new Date(x.time).toISOString(), value: x.value },
      );
    }
    return { deviceId: d.id, metric: q.metric, unit: unitOf(q.metric), points };
  });
}

/** Clock offset (device − network server, seconds; negative = behind) last seen beyond the tolerance, and
 *  device warnings, e.g. a stuck tipping bucket. */
async function deviceHealth(db: Queryable, id: string) {
  const r = await db.query<{ clock_skew_s: number | null; clock_skew_at: Date | null; warnings: unknown[] }>(
    'select clock_skew_s, clock_skew_at, warnings from device_health where device_id = $1',
    [id],
  );
  const h = r.rows[0];
  return {
    clockSkew: h?.clock_skew_s != null && h.clock_skew_at ? { seconds: h.clock_skew_s, at: new Date(h.clock_skew_at).toISOString() } : null,
    warnings: h?.warnings ?? [],
  };
}
