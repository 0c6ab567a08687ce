// A device's stored readings, raw or in buckets. [docs/api.md Endpoints]
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { tryParseDuration } from '../../../alerts/rules/duration.ts';
import { isMetric, qualityFlags, unitOf } from '../../../alerts/types.ts';
import { type Buckets, bucketSeries, rawReadings } from '../../devices/readings.ts';
import { assertOrg, need } from '../auth.ts';
import { ApiError, notFound } from '../errors.ts';
import type { ApiRoutes } from '../plugin.ts';
import { idParam, responses } from '../schemas.ts';

export const series = z.object({
  deviceId: z.string(),
  metric: z.string(),
  unit: z.string().optional(),
  points: z.array(
    z.object({
      time: z.string(),
      value: z.number(),
      quality: z.number().int().optional().describe('raw readings only: quality bits of a flagged reading'),
      flags: z.array(z.string()).optional().describe('why a flagged reading was not evaluated'),
    }),
  ),
});

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

/** Registered under /api/v1/devices, beside the device routes. */
export const readingRoutes: ApiRoutes = async (app, { ctx }) => {
  app.get(
    '/:id/readings',
    {
      schema: {
        tags: ['devices'],
        summary: "A device's readings of one metric, raw or aggregated in buckets",
        params: idParam,
        querystring: readingsQuery,
        response: responses({ 200: series }),
      },
    },
    async (req, reply) => {
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
        const b = await bucketSeries(ctx.db, d.id, q.metric, from, to, ms, q.agg, q.limit);
        const body = bucketsJson(d.id, q.metric, unitOf(q.metric), b);
        // fastify sends a string with a JSON content type as it is (the type provider's reply only takes the object form)
        const text: FastifyReply = reply;
        if (body !== undefined) return text.type('application/json; charset=utf-8').send(body);
        points = b.times.map((t, i) => ({ time: new Date(t).toISOString(), value: b.values[i] }));
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
    },
  );
};

/**
 * The `series` response of buckets as JSON text, byte for byte what the schema's serialiser gives for the same
 * points (same keys in the same order, numbers as JSON.stringify writes them), written directly: validating and
 * serialising a year of hours (8 761 point objects) through zod cost more than the query. Only finite values
 * take this path (undefined otherwise: the caller falls back to the schema's serialiser, which rejects a
 * non-finite value as before).
 */
export function bucketsJson(deviceId: string, metric: string, unit: string | undefined, b: Buckets): string | undefined {
  for (const v of b.values) if (!Number.isFinite(v)) return undefined;
  const parts: string[] = new Array(b.times.length);
  for (let i = 0; i < b.times.length; i++) parts[i] = `{"time":"${new Date(b.times[i]).toISOString()}","value":${b.values[i]}}`;
  const head = `{"deviceId":${JSON.stringify(deviceId)},"metric":${JSON.stringify(metric)}${unit === undefined ? '' : `,"unit":${JSON.stringify(unit)}`}`;
  return `${head},"points":[${parts.join(',')}]}`;
}
