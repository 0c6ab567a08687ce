// Bulk downloads of the public gauges: one station's metric for a month or a year as CSV, streamed in batches,
// and a ZIP of every public station of a municipality for a month. [docs/opendata.md Downloads]
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../api/errors.ts';
import { orgSchema } from '../../auth/orgs.ts';
import type { AppContext } from '../../context.ts';
import { getOpenData, LICENSES } from '../open-data-settings.ts';
import { cacheFor, openRateLimit } from '../open-http.ts';
import { metricsWithReadings, publicDevice, publicDevices, type StreamStats, streamStats } from '../public-store.ts';
import { publishedMetric } from '../sta/vocabulary.ts';
import { csvChunks, periodRange } from './csv.ts';
import { ZipWriter } from './zip.ts';

const fileBody = z.any().describe('the file (text/csv or application/zip), streamed');
const notModified = z.any().describe('not modified since the ETag given in If-None-Match');
const notFound = (what: string) => new ApiError('NOT_FOUND', what);

/** Weak ETag from what decides the content: the readings' count and newest time per stream. */
const etagOf = (stats: StreamStats[]) =>
  `W/"${crypto
    .createHash('sha1')
    .update(stats.map((s) => `${s.deviceId}/${s.metric}/${s.n}/${s.last?.getTime() ?? 0}`).join(';'))
    .digest('base64url')}"`;

function cacheHeaders(reply: FastifyReply, to: Date, stats: StreamStats[], from: Date) {
  const last = stats.reduce<Date | null>((m, s) => (s.last && (!m || s.last > m) ? s.last : m), null);
  // a finished period does not change any more (late readings aside): a day; the running one: five minutes
  cacheFor(reply, to.getTime() <= Date.now() ? 86_400 : 300, last ?? from);
  reply.header('etag', etagOf(stats));
}

export async function downloadRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const config = openRateLimit(ctx.config.openDataRateLimit);

  app.get(
    '/open/downloads/:deviceId/:metric/:file',
    {
      schema: {
        tags: ['open data'],
        summary: "One public station's readings of a metric for a month (2026-05.csv) or a year (2026.csv), as CSV",
        params: z.object({ deviceId: z.string().max(64), metric: z.string().max(40), file: z.string().max(20) }),
        response: { 200: fileBody, 304: notModified },
      },
      config,
    },
    async (req, reply) => {
      const { deviceId, metric, file } = req.params;
      const period = /^(.+)\.csv$/.exec(file)?.[1];
      const range = period ? periodRange(period) : undefined;
      if (!period || !range) throw new ApiError('BAD_REQUEST', `file must be <year>.csv or <year>-<month>.csv, e.g. 2026.csv or 2026-05.csv, not '${file}'`);
      const m = publishedMetric(metric);
      const d = await publicDevice(ctx.db, deviceId);
      if (!d || !m) throw notFound(`no public station '${deviceId}' with published metric '${metric}'`);
      const stats = await streamStats(ctx.db, d.id, m.metric, range.from, range.to);
      cacheHeaders(reply, range.to, [stats], range.from);
      if (req.headers['if-none-match'] === reply.getHeader('etag')) return reply.code(304).send();
      return reply
        .type('text/csv; charset=utf-8; header=present')
        .header('content-disposition', `attachment; filename="${d.id}_${m.metric}_${period}.csv"`)
        .send(Readable.from(csvChunks(ctx.db, d.id, m, range.from, range.to)));
    },
  );

  app.get(
    '/open/downloads/:org/:file',
    {
      schema: {
        tags: ['open data'],
        summary: 'Every public station of a municipality for one month as a ZIP of CSV files (2026-05.zip)',
        params: z.object({ org: orgSchema, file: z.string().max(20) }),
        response: { 200: fileBody, 304: notModified },
      },
      config,
    },
    async (req, reply) => {
      const { org, file } = req.params;
      const month = /^(\d{4}-\d{2})\.zip$/.exec(file)?.[1];
      const range = month ? periodRange(month) : undefined;
      if (!month || !range) throw new ApiError('BAD_REQUEST', `file must be <year>-<month>.zip, e.g. 2026-05.zip, not '${file}'`);
      const settings = await getOpenData(ctx.db, org);
      if (!settings.enabled) throw notFound(`municipality '${org}' publishes no open data`);
      const streams: StreamStats[] = [];
      for (const d of await publicDevices(ctx.db, org)) {
        for (const metric of await metricsWithReadings(ctx.db, d.id, range.from, range.to))
          streams.push(await streamStats(ctx.db, d.id, metric, range.from, range.to));
      }
      cacheHeaders(reply, range.to, streams, range.from);
      if (req.headers['if-none-match'] === reply.getHeader('etag')) return reply.code(304).send();
      const license = LICENSES[settings.license];
      const readme = [
        `Regenwacht – Messdaten ${org}, ${month}`,
        `Herausgeber: ${settings.publisher ?? org}`,
        `Lizenz: ${license?.title ?? settings.license} (${license?.uri ?? ''})`,
        ...(settings.contact ? [`Kontakt: ${settings.contact}`] : []),
        'Eine CSV-Datei je Messstelle und Messgröße (RFC 4180); Zeiten in UTC (ISO 8601 mit Offset), Einheit in der Kopfzeile,',
        'nur qualitätsgeprüfte Werte (quality: ok, oder clock_skew = mit der Empfangszeit neu gestempelt).',
        '',
      ].join('\r\n');
      async function* zip() {
        const w = new ZipWriter();
        yield w.entry('LIESMICH.txt', Buffer.from(readme, 'utf8'), range!.from);
        for (const s of streams) {
          const m = publishedMetric(s.metric);
          if (!m) continue;
          let text = '';
          for await (const chunk of csvChunks(ctx.db, s.deviceId, m, range!.from, range!.to)) text += chunk;
          yield w.entry(`${s.deviceId}_${s.metric}_${month}.csv`, Buffer.from(text, 'utf8'), s.last ?? range!.from);
        }
        yield w.end();
      }
      return reply.type('application/zip').header('content-disposition', `attachment; filename="regenwacht_${org}_${month}.zip"`).send(Readable.from(zip()));
    },
  );
}
