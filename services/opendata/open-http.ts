// What every anonymous open-data endpoint shares: CORS for any origin, its own rate limit (separate from the
// API's), caching headers, and ETag/If-None-Match → 304 on buffered answers. Registered inside the open-data
// plugin only, so none of it touches the operator API. [issue 15]
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from '../api/errors.ts';

export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'ETag, Last-Modified, Content-Disposition, Retry-After',
} as const;

/** Route config: the open endpoints share one per-address budget, separate from HTTP_RATE_LIMIT. */
export const openRateLimit = (max: number) => ({
  rateLimit: {
    max,
    timeWindow: '1 minute',
    groupId: 'open-data',
    keyGenerator: (req: { ip: string }) => `open:${req.ip}`,
  },
});

/** `public, max-age=…`: how long a cache may keep the answer. */
export function cacheFor(reply: FastifyReply, seconds: number, lastModified?: Date) {
  reply.header('cache-control', `public, max-age=${seconds}`);
  if (lastModified && !Number.isNaN(lastModified.getTime())) reply.header('last-modified', lastModified.toUTCString());
}

const etagOf = (payload: string | Buffer) => `W/"${crypto.createHash('sha1').update(payload).digest('base64url')}"`;

/**
 * At most `max` anonymous requests work at once (the rest wait in line, and beyond `queue` get 503): open-data
 * readers share the database pool and the event loop with ingest and alarms, and must never starve them.
 * Measured without it: 50 clients took every pooled connection and alarm writes timed out (docs/benchmarks.md).
 */
export class OpenGate {
  private active = 0;
  private waiting: Array<() => void> = [];
  /**
   * `rest`: after a request, the next waiting one starts only after this share of its time has passed. The
   * embedded store is one connection: without a rest, back-to-back open-data queries kept ingest and alarms
   * waiting behind them (alarm latency 34 ms → 16 s with 50 readers, docs/benchmarks.md).
   */
  constructor(
    private max: number,
    private queue: number,
    private rest = 0,
  ) {}

  /** Resolves with a release function once it is this request's turn. */
  async acquire(): Promise<() => void> {
    if (this.active >= this.max) {
      if (this.waiting.length >= this.queue) throw new ApiError('UNAVAILABLE', 'too many open-data requests at once; try again in a few seconds');
      await new Promise<void>((res) => this.waiting.push(res));
    } else this.active++;
    const started = performance.now();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const handOver = () => {
        const next = this.waiting.shift();
        if (next) next();
        else this.active--;
      };
      const pause = Math.min(2000, (performance.now() - started) * this.rest);
      if (pause >= 1) setTimeout(handOver, pause).unref();
      else handOver();
    };
  }
}

/** Adds CORS, a default Cache-Control, ETag handling and the gate to the routes of the plugin it is called in. */
export function openHttpHooks(app: FastifyInstance, prefixes: string[], gate: OpenGate) {
  app.addHook('onRequest', async (_req, reply) => {
    for (const [k, v] of Object.entries(CORS_HEADERS)) reply.header(k, v);
    // helmet's same-origin default would keep other sites' pages from embedding the data
    reply.header('cross-origin-resource-policy', 'cross-origin');
  });
  // after the rate limit (a route onRequest hook): a client over its budget never waits in line
  app.addHook('preHandler', async (_req, reply) => {
    // released when the answer is sent or the client goes away, also for streamed downloads
    const release = await gate.acquire().catch((e) => {
      reply.header('retry-after', '5');
      throw e;
    });
    reply.raw.once('close', release);
  });
  app.addHook('onSend', async (req, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', reply.statusCode < 400 ? 'public, max-age=60' : 'no-store');
    if (reply.statusCode !== 200 || !(typeof payload === 'string' || Buffer.isBuffer(payload))) return payload;
    const tag = reply.getHeader('etag')?.toString() ?? etagOf(payload);
    reply.header('etag', tag);
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    const lm = reply.getHeader('last-modified')?.toString();
    const notModified = inm ? inm.split(',').some((t) => t.trim() === tag || t.trim() === '*') : !!(ims && lm && Date.parse(lm) <= Date.parse(ims));
    if (notModified) {
      reply.code(304);
      reply.removeHeader('content-length');
      return '';
    }
    return payload;
  });
  // CORS preflight (a browser asks before sending If-None-Match from another origin)
  for (const prefix of prefixes) {
    app.options(`${prefix}/*`, { schema: { hide: true } }, async (_req, reply) =>
      reply
        .code(204)
        .header('access-control-allow-methods', 'GET, HEAD, OPTIONS')
        .header('access-control-allow-headers', 'If-None-Match, If-Modified-Since, Accept, Accept-Language')
        .header('access-control-max-age', '86400')
        .send(),
    );
  }
}
