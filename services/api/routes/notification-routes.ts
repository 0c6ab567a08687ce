// Routes: which alarms notify whom (webhooks, SMS). [docs/formats.md Routes and targets]

import { z } from 'zod';
import type { Target } from '../../../alerts/channels/types.ts';
import { coverageGaps as gapsOfList, localTime } from '../../../alerts/routing/oncall.ts';
import { type RouteBody, routeSchema } from '../../../alerts/routing/route-schema.ts';
import type { RouteService } from '../../alarms/route-service.ts';
import type { OrgRoute } from '../../alarms/route-store.ts';
import { type EgressScope, refusedRouteTargets, WebhookEgress } from '../../alarms/webhook-egress.ts';
import { orgSchema } from '../../auth/orgs.ts';
import type { Principal } from '../../auth/token-store.ts';
import { routeOut } from '../alarm-schemas.ts';
import { actor, assertOrg, need, orgFor, sees } from '../auth.ts';
import { ApiError, notFound } from '../errors.ts';
import type { ApiRoutes } from '../plugin.ts';
import { idParam, itemsOf, noContent, responses } from '../schemas.ts';

const routeBody = routeSchema.extend({ org: orgSchema.optional() }).meta({
  examples: [
    {
      name: 'Bauhof Gießen',
      match: { minSeverity: 'moderate', tags: { river: 'lahn' } },
      targets: [
        { type: 'webhook', url: 'https://leitstelle.example/hooks/regenwacht', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
        { type: 'sms', to: '+4915112345678', name: 'Zugführer Meier' },
      ],
      repeatEvery: '30m',
      escalate: { after: '15m', targets: [{ type: 'sms', to: '+4915187654321' }] },
    },
  ],
});

/** Webhook secrets are write-only. With the hours no target is on duty by plan (exception dates from `now` on). */
export function redactRoute(r: OrgRoute, now = Date.now()): z.output<typeof routeOut> {
  const red = (ts: Target[]) => ts.map((t) => (t.type === 'webhook' ? { ...t, secret: 'whsec_…' as const } : t));
  const { escalate, ...rest } = r;
  const today = localTime(now).date;
  const coverageGaps = [...gapsOfList(r.targets, 'targets', today), ...(escalate ? gapsOfList(escalate.targets, 'escalate.targets', today) : [])];
  return {
    ...rest,
    targets: red(r.targets),
    ...(escalate ? { escalate: { after: escalate.after, targets: red(escalate.targets) } } : {}),
    coverageGaps,
  };
}

export const notificationRouteRoutes: ApiRoutes<{ routes: RouteService }> = async (app, { ctx, routes }) => {
  const egress = new WebhookEgress(ctx.config.webhookAllowNets);
  /** A webhook target the saving token may not reach is refused at save (and again at every delivery). */
  const checkTargets = async (p: Principal, body: RouteBody): Promise<EgressScope> => {
    const scope: EgressScope = p.org === null && p.role === 'admin' ? 'installation' : 'municipality';
    const problems = (await refusedRouteTargets(egress, scope, body)).map((x) => ({ ...x, path: `body.${x.path}` }));
    if (problems.length) throw new ApiError('VALIDATION_FAILED', `invalid request: ${problems.map((x) => `${x.path}: ${x.message}`).join('; ')}`, problems);
    return scope;
  };

  app.post(
    '',
    { schema: { tags: ['routes'], summary: 'Create a route (webhook secrets are write-only)', body: routeBody, response: responses({ 201: routeOut }) } },
    async (req, reply) => {
      const p = need(req, 'routes:write');
      const { org, ...body } = req.body;
      const o = orgFor(p, org);
      const scope = await checkTargets(p, body);
      return reply.code(201).send(redactRoute(await routes.save(undefined, body, actor(p), o, scope)));
    },
  );
  app.get('', { schema: { tags: ['routes'], summary: 'List routes', response: responses({ 200: itemsOf(routeOut) }) } }, async (req) => {
    const p = need(req, 'read');
    return {
      items: routes
        .list()
        .filter((r) => sees(p, r.org))
        .map((r) => redactRoute(r)),
    };
  });
  app.get('/:id', { schema: { tags: ['routes'], summary: 'One route', params: idParam, response: responses({ 200: routeOut }) } }, async (req) => {
    const p = need(req, 'read');
    const r = routes.get(req.params.id);
    if (!r) throw notFound('route', req.params.id);
    assertOrg(p, r.org, 'route', req.params.id);
    return redactRoute(r);
  });
  app.put(
    '/:id',
    { schema: { tags: ['routes'], summary: 'Replace a route', params: idParam, body: routeBody, response: responses({ 200: routeOut }) } },
    async (req) => {
      const p = need(req, 'routes:write');
      const cur = routes.get(req.params.id);
      if (!cur) throw notFound('route', req.params.id);
      assertOrg(p, cur.org, 'route', req.params.id);
      const { org, ...body } = req.body;
      const o = orgFor(p, org, cur.org);
      const scope = await checkTargets(p, body);
      return redactRoute(await routes.save(req.params.id, body, actor(p), o, scope));
    },
  );
  // PATCH like the other resources [docs/api.md]: the fields given replace the route's own; the result is
  // checked as a whole, as at POST. Stored webhook secrets stay unless `targets`/`escalate` are given.
  app.patch(
    '/:id',
    {
      schema: {
        tags: ['routes'],
        summary: 'Change a route (only the fields given)',
        params: idParam,
        body: z.record(z.string(), z.unknown()).meta({ examples: [{ enabled: false }, { repeatEvery: '15m' }] }),
        response: responses({ 200: routeOut }),
      },
    },
    async (req) => {
      const p = need(req, 'routes:write');
      const cur = routes.get(req.params.id);
      if (!cur) throw notFound('route', req.params.id);
      assertOrg(p, cur.org, 'route', req.params.id);
      const { id: _id, org: _org, ...own } = cur;
      const r = routeBody.safeParse({ ...own, ...req.body });
      if (!r.success) {
        const details = r.error.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message }));
        throw new ApiError('VALIDATION_FAILED', `invalid request: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
      }
      const { org, ...body } = r.data;
      const o = orgFor(p, org, cur.org);
      const scope = await checkTargets(p, body);
      return redactRoute(await routes.save(req.params.id, body, actor(p), o, scope));
    },
  );
  app.delete(
    '/:id',
    { schema: { tags: ['routes'], summary: 'Delete a route', params: idParam, response: responses({ 204: noContent }) } },
    async (req, reply) => {
      const p = need(req, 'routes:write');
      assertOrg(p, routes.get(req.params.id)?.org, 'route', req.params.id);
      if (!(await routes.delete(req.params.id, actor(p)))) throw notFound('route', req.params.id);
      return reply.code(204).send();
    },
  );
};
