// Liveness, readiness and Prometheus metrics, outside /api/v1 and without a token.
import type { ApiRoutes } from '../plugin.ts';

export const healthRoutes: ApiRoutes = async (app, { ctx }) => {
  app.get('/healthz', { schema: { tags: ['health'], security: [] } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['health'], security: [] } }, async (_req, reply) => {
    const database = await ctx.db.ping();
    const broker = ctx.brokerReady();
    const draining = ctx.draining();
    const ok = database && broker && !draining;
    const leader = ctx.schedulerLeader?.();
    return reply
      .code(ok ? 200 : 503)
      .send({ status: ok ? 'ready' : draining ? 'draining' : 'not ready', database, broker, draining, schedulerLeader: leader ?? null });
  });
  app.get('/metrics', { schema: { tags: ['health'], security: [] } }, async (_req, reply) => {
    reply.header('content-type', ctx.metrics.registry.contentType);
    await ctx.metrics.refresh().catch((e) => ctx.log.warn({ err: (e as Error).message }, 'metrics refresh failed'));
    return ctx.metrics.registry.metrics();
  });
};
