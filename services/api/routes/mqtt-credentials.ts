import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { audit } from '../../audit.ts';
import { orgFilterProblem } from '../../auth/mqtt-acl.ts';
import { forbiddenSubscription, validFilter } from '../../auth/mqtt-credentials.ts';
import type { AppContext } from '../../context.ts';
import { actor, need, orgFilter } from '../auth.ts';
import { ApiError, conflict, notFound } from '../errors.ts';

const filter = z.string().refine(validFilter, 'not a valid MQTT topic filter');
const body = z.object({
  username: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'letters, digits and . _ @ - only, at most 64'),
  publish: z.array(filter).min(1).max(100),
  /** none by default: the broker is an intake; e.g. a dashboard bridge may be given some */
  subscribe: z
    .array(filter.refine((f) => !forbiddenSubscription(f), 'no $share/$SYS subscriptions and nothing that reads every topic'))
    .max(100)
    .default([]),
});
const params = z.object({ username: z.string().max(200) });

export async function mqttCredentialRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.post('/api/v1/mqtt-credentials', { schema: { tags: ['access'], body } }, async (req, reply) => {
    const p = need(req, 'credentials:write');
    const org = orgFilter(p);
    // a municipality grants rights to its own devices' topics only, never # or a wildcard device
    if (org !== null) {
      const problems = [...req.body.publish, ...req.body.subscribe].map((f) => orgFilterProblem(ctx.devices, org, f)).filter((x) => x !== null);
      if (problems.length) throw new ApiError('FORBIDDEN', problems.join('; '));
    }
    const exists = await ctx.db.query('select 1 from mqtt_credentials where username = $1', [req.body.username]);
    if (exists.rowCount) throw conflict(`MQTT username '${req.body.username}' already exists`);
    const c = await ctx.db
      .transaction(async (tx) => {
        const c = await ctx.credentials.create(tx, { ...req.body, org }, actor(p));
        await audit(tx, actor(p), 'create', 'mqtt-credential', req.body.username, { publish: req.body.publish, subscribe: req.body.subscribe, org });
        return c;
      })
      .catch((e: { code?: string }) => {
        // two requests racing past the check above
        if (e.code === '23505') throw conflict(`MQTT username '${req.body.username}' already exists`);
        throw e;
      });
    return reply.code(201).send({ username: c.username, password: c.password, publish: req.body.publish, subscribe: req.body.subscribe, org });
  });
  app.get('/api/v1/mqtt-credentials', { schema: { tags: ['access'] } }, async (req) => {
    // who may publish what is for those who manage devices, not for responders and viewers
    const p = need(req, 'credentials:read');
    return { items: await ctx.credentials.list(orgFilter(p)) };
  });
  app.delete('/api/v1/mqtt-credentials/:username', { schema: { tags: ['access'], params } }, async (req, reply) => {
    const p = need(req, 'credentials:write');
    if (!(await ctx.credentials.visible(req.params.username, orgFilter(p)))) throw notFound('MQTT credential', req.params.username);
    const ok = await ctx.credentials.remove(ctx.db, req.params.username);
    if (!ok) throw notFound('MQTT credential', req.params.username);
    await audit(ctx.db, actor(p), 'delete', 'mqtt-credential', req.params.username);
    return reply.code(204).send();
  });
  // a new password, shown once; connections made with the old one are closed
  app.post('/api/v1/mqtt-credentials/:username/rotate', { schema: { tags: ['access'], params } }, async (req) => {
    const p = need(req, 'credentials:write');
    if (!(await ctx.credentials.visible(req.params.username, orgFilter(p)))) throw notFound('MQTT credential', req.params.username);
    const password = await ctx.credentials.rotate(ctx.db, req.params.username);
    if (!password) throw notFound('MQTT credential', req.params.username);
    await audit(ctx.db, actor(p), 'rotate', 'mqtt-credential', req.params.username);
    return { username: req.params.username, password };
  });
}
