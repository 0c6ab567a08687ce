// GET /sta/v1.1 and everything under it: the read-only OGC SensorThings API v1.1 (Part 1: Sensing) over the
// public gauges. 400 with a message for a bad query, 404 for anything not public or not there. [OGC 18-088]
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../api/errors.ts';
import type { AppContext } from '../../context.ts';
import { openRateLimit } from '../open-http.ts';
import { StaQueryError } from './filter-parser.ts';
import { toCsv, toGeoJson } from './result-formats.ts';
import { StaNotFound, StaService } from './sta-service.ts';

export const STA_PREFIX = '/sta/v1.1';

/** A SensorThings answer: the service root, a collection ({value, @iot.count, @iot.nextLink}), an entity, or CSV/GeoJSON. */
const staResponse = z.any().describe('SensorThings JSON (OGC 18-088), or CSV / GeoJSON with $resultFormat');

/** The query string as name → decoded value, keeping `$filter=a eq 'x+y'` intact ('+' stays '+'). */
export function rawQuery(url: string): Map<string, string> {
  const out = new Map<string, string>();
  const q = url.indexOf('?');
  if (q < 0) return out;
  for (const part of url.slice(q + 1).split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    if (out.has(name)) throw new StaQueryError(`query option '${name}' given twice`);
    out.set(name, eq < 0 ? '' : decode(part.slice(eq + 1)));
  }
  return out;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new StaQueryError(`malformed percent-encoding in '${s.slice(0, 60)}'`);
  }
}

/** PostgreSQL refusing a well-formed filter at run time (e.g. a value out of range): the client's mistake. */
const isDataError = (e: unknown) => /^(22|42883|42804)/.test(String((e as { code?: string })?.code ?? ''));

export async function staRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const sta = new StaService(ctx.db, `${ctx.config.publicUrl}${STA_PREFIX}`);

  const handle = async (req: FastifyRequest, reply: import('fastify').FastifyReply) => {
    const pathPart = req.url.split('?')[0].slice(STA_PREFIX.length);
    try {
      const r = await sta.get(decode(pathPart), rawQuery(req.url));
      if (r.kind === 'value') return reply.type('text/plain; charset=utf-8').send(r.body);
      if (r.kind === 'json') return reply.type('application/json; charset=utf-8').send(r.body);
      if (r.format === 'CSV') return reply.type('text/csv; charset=utf-8; header=present').send(toCsv(r.value));
      if (r.format === 'GeoJSON') return reply.type('application/geo+json; charset=utf-8').send(toGeoJson(r.value));
      return reply.type('application/json; charset=utf-8').send(r.body);
    } catch (e) {
      if (e instanceof StaQueryError) throw new ApiError('BAD_REQUEST', e.message);
      if (e instanceof StaNotFound) throw new ApiError('NOT_FOUND', e.message);
      if (isDataError(e)) throw new ApiError('BAD_REQUEST', `the query cannot be evaluated: ${(e as Error).message}`);
      throw e;
    }
  };
  const opts = {
    schema: {
      tags: ['open data'],
      summary: 'OGC SensorThings API v1.1 (read-only, anonymous): entities, navigation, query options',
      response: { 200: staResponse },
    },
    config: openRateLimit(ctx.config.openDataRateLimit),
  };
  app.get(STA_PREFIX, opts, handle);
  app.get(`${STA_PREFIX}/*`, opts, handle);
}
