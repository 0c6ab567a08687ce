// A test message to one target of a route, sent at once (not through the outbox): does the receiver answer?
// The console's "Testnachricht senden" calls the same service function. [docs/api.md Routes]
import { z } from 'zod';
import type { RouteService } from '../../alarms/route-service.ts';
import { sendTestMessage, targetAddress } from '../../alarms/route-test.ts';
import { assertOrg, need } from '../auth.ts';
import { ApiError, notFound } from '../errors.ts';
import type { ApiRoutes } from '../plugin.ts';
import { idParam, responses } from '../schemas.ts';

const body = z.object({ target: z.number().int().min(0).default(0) }).default({ target: 0 });
const response = z.object({
  ok: z.boolean(),
  to: z.string(),
  status: z.number().int().nullable(),
  error: z.string().nullable(),
  latencyMs: z.number(),
});

export const routeTestRoutes: ApiRoutes<{ routes: RouteService; now: () => number }> = async (app, { ctx, routes, now }) => {
  app.post(
    '/:id/test',
    {
      schema: {
        tags: ['routes'],
        summary: 'Send a test message to one target of a route now (targets, then escalate.targets, counted from 0)',
        params: idParam,
        body,
        response: responses({ 200: response }),
      },
    },
    async (req) => {
      const p = need(req, 'routes:write');
      const r = routes.get(req.params.id);
      if (!r) throw notFound('route', req.params.id);
      assertOrg(p, r.org, 'route', req.params.id);
      const t = [...r.targets, ...(r.escalate?.targets ?? [])][req.body.target];
      if (!t) throw new ApiError('VALIDATION_FAILED', `route ${r.id} has no target ${req.body.target}`, [{ path: 'body.target', message: 'no such target' }]);
      const res = await sendTestMessage({ db: ctx.db, config: ctx.config, now }, r, t);
      req.log.info({ routeId: r.id, ok: res.ok, status: res.status }, 'test message sent');
      return { ok: res.ok, to: targetAddress(t), status: res.status ?? null, error: res.error ?? null, latencyMs: Math.round(res.latencyMs) };
    },
  );
};
