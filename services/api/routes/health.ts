// Liveness, readiness and Prometheus metrics, outside /api/v1 and without a token.
import { z } from 'zod';
import type { ApiRoutes } from '../plugin.ts';

const ready = z.object({
  status: z.enum(['ready', 'not ready', 'draining']),
  database: z.boolean(),
  broker: z.boolean(),
  draining: z.boolean().describe('shutting down: finishing its work, take it out of the load balancer'),
  schedulerLeader: z.boolean().nullable().describe('runs the scheduler of the alarm role now; null without that role'),
});

export const healthRoutes: ApiRoutes = async (app, { ctx }) => {
  app.get(
    '/healthz',
    { schema: { tags: ['health'], summary: 'Is the process alive', security: [], response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Are the database and the MQTT broker usable and the process not shutting down (503 when not)',
        security: [],
        response: { 200: ready, 503: ready },
      },
    },
    async (_req, reply) => {
      const database = await ctx.db.ping();
      const broker = ctx.brokerReady();
      const draining = ctx.draining();
      const ok = database && broker && !draining;
      const leader = ctx.schedulerLeader?.();
      return reply
        .code(ok ? 200 : 503)
        .send({ status: ok ? 'ready' : draining ? 'draining' : 'not ready', database, broker, draining, schedulerLeader: leader ?? null });
    },
  );
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (text exposition format)',
        security: [],
        produces: ['text/plain'],
        response: { 200: z.string().describe('Prometheus text format 0.0.4') },
      },
    },
    async (_req, reply) => {
      reply.header('content-type', ctx.metrics.registry.contentType);
      await ctx.metrics.refresh().catch((e) => ctx.log.warn({ err: (e as Error).message }, 'metrics refresh failed'));
      return ctx.metrics.registry.metrics();
    },
  );
};
