// The HTTP API: fastify + zod type provider, OpenAPI, bearer auth with roles, one error format. [docs/api.md]
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { AppContext } from '../context.ts';
import { isConnectionError } from '../db/db.ts';
import { AuthFailureGuard } from './client-guard.ts';
import { capConnectionsPerAddress } from './connection-cap.ts';
import { ApiError } from './errors.ts';
import { unsafeTextAt } from './input-guard.ts';
import { registerRoutes } from './routes/index.ts';

export type Api = FastifyInstance;

/** Failed authentications one client address may make per minute before it gets 429s. */
export const AUTH_FAILURES_PER_MINUTE = 30;

export async function buildApi(ctx: AppContext, log: Logger): Promise<FastifyInstance> {
  // per-request access lines only at debug; errors still logged
  const apiLog: FastifyBaseLogger = log.child({ component: 'api' }, { level: log.levelVal <= 20 ? log.level : 'warn' });
  const app = Fastify({
    loggerInstance: apiLog,
    bodyLimit: 1 << 20,
    genReqId: () => Math.random().toString(36).slice(2, 10),
    // a connection that never completes its request head, or trickles its body, is closed (Node checks the
    // open connections every few seconds; its defaults leave a slow body unbounded)
    http: { connectionsCheckingInterval: Math.min(5000, ctx.config.httpHeadersTimeoutS * 500) },
    requestTimeout: Math.max(120, ctx.config.httpHeadersTimeoutS) * 1000,
  });
  app.server.headersTimeout = ctx.config.httpHeadersTimeoutS * 1000;
  capConnectionsPerAddress(app.server, ctx.config.httpMaxConnectionsPerAddress, log, () => ctx.metrics.httpConnectionsRefused.inc());
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // an empty body sent with content-type application/json counts as no body (e.g. POST …/ack), not as a 400
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (typeof body === 'string' && body.trim() === '') return done(null, undefined);
    return json(req, String(body), done);
  });

  app.setErrorHandler((err: unknown, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const details = err.validation.map((v) => ({
        path: [
          err.validationContext,
          ...String(v.instancePath ?? '')
            .split('/')
            .filter(Boolean),
        ].join('.'),
        message: v.message,
      }));
      return reply
        .code(400)
        .send({ error: { code: 'VALIDATION_FAILED', message: `invalid request: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details } });
    }
    if (err instanceof ApiError) return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message, details: err.details } });
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.statusCode === 429) return reply.code(429).send({ error: { code: 'RATE_LIMITED', message: 'too many requests, slow down' } });
    if (e.statusCode === 413) return reply.code(413).send({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body larger than 1 MiB' } });
    if (e.statusCode === 415) return reply.code(415).send({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: e.message } });
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: e.message ?? 'bad request' } });
    }
    // the store not answering is no bug of the request: 503 with the catalogue's code, and a hint when to retry
    if (isConnectionError(err)) {
      const busy = /timeout exceeded when trying to connect/i.test(e.message ?? '');
      req.log.warn({ err: e.message, reqId: req.id }, busy ? 'request gave up: every database connection busy' : 'request failed: database unavailable');
      reply.header('retry-after', busy ? '1' : '5');
      return busy
        ? reply.code(503).send({ error: { code: 'OVERLOADED', message: 'every database connection is busy; try again in a moment' } })
        : reply.code(503).send({ error: { code: 'UNAVAILABLE', message: 'the database does not answer; try again shortly' } });
    }
    req.log.error({ err, reqId: req.id }, 'request failed');
    return reply.code(500).send({ error: { code: 'INTERNAL', message: `internal error (request ${req.id})` } });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }));

  await app.register(swagger, {
    openapi: {
      // 3.1: its schemas are JSON Schema 2020-12, what zod writes (tuples, literals, exclusive bounds)
      openapi: '3.1.0',
      info: { title: 'Regenwacht API', version: '1', description: 'Heavy-rain and flash-flood early warning' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    // schemas with a .meta({ id }) (Error, Rule, Route, …) become components, referenced by every operation
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Security headers on every response, errors and 404s included. [issue 11, OWASP ASVS 14.4]
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // the OpenAPI UI styles elements inline; map tiles and its icons are images
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'https:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    hsts: false, // TLS ends at the reverse proxy, which sets it
  });

  // Rate limit per client address, before authentication: a made-up token costs the same budget as a real one.
  await app.register(rateLimit, {
    max: ctx.config.httpRateLimit,
    timeWindow: '1 minute',
    keyGenerator: (req) => req.ip,
    errorResponseBuilder: (_req, c) => ({ statusCode: 429, code: 'RATE_LIMITED', message: `rate limit of ${c.max} requests per minute exceeded` }),
  });
  const authFailures = new AuthFailureGuard({ maxFailures: AUTH_FAILURES_PER_MINUTE, windowMs: 60_000 });

  app.addHook('onResponse', (req, reply, done) => {
    ctx.metrics.httpRequests.inc({ method: req.method, status: String(reply.statusCode) });
    if (reply.statusCode >= 500) req.log.warn({ reqId: req.id, url: req.url, status: reply.statusCode }, 'request error');
    done();
  });

  app.addHook('preValidation', async (req) => {
    const at = unsafeTextAt({ body: req.body, querystring: req.query, params: req.params });
    if (at) {
      const message = 'NUL bytes and unpaired UTF-16 surrogates are not allowed in text';
      throw new ApiError('VALIDATION_FAILED', `invalid request: ${at}: ${message}`, [{ path: at, message }]);
    }
  });

  // Bearer auth for everything under /api/v1. [docs/api.md]
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/api/')) return;
    // API answers carry municipal data and sometimes secrets (new tokens, MQTT passwords): never cached
    reply.header('cache-control', 'no-store');
    const h = req.headers.authorization;
    const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
    // a map lookup, no query (token-store.ts); a valid token is never locked out by its neighbours' guessing
    const p = m ? await ctx.tokens.verify(m[1]) : null;
    if (!p) {
      if (authFailures.blocked(req.ip)) {
        reply.header('retry-after', String(authFailures.retryAfterSec(req.ip)));
        throw new ApiError('RATE_LIMITED', 'too many failed authentications from this address; wait a minute');
      }
      authFailures.fail(req.ip);
      throw new ApiError('UNAUTHORIZED', m ? 'unknown, revoked or expired token' : 'missing bearer token (Authorization: Bearer <token>)');
    }
    req.principal = p;
  });

  await registerRoutes(app, ctx);
  return app;
}
