import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { audit } from '../../audit.ts';
import { validFilter } from '../../auth/mqtt-credentials.ts';
import type { AppContext } from '../../context.ts';
import { actor, need, needInstallation } from '../app.ts';
import { conflict, notFound } from '../errors.ts';

const body = z.object({
  username: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'letters, digits and . _ @ - only, at most 64'),
  publish: z.array(z.string().refine(validFilter, 'not a valid MQTT topic filter')).min(1).max(100),
});

export async function mqttCredentialRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.post('/api/v1/mqtt-credentials', { schema: { tags: ['access'], body } }, async (req, reply) => {
    const p = need(req, 'credentials:write');
    needInstallation(p, 'MQTT credentials');
    const exists = await ctx.db.query('select 1 from mqtt_credentials where username = $1', [req.body.username]);
    if (exists.rowCount) throw conflict(`MQTT username '${req.body.username}' already exists`);
    const c = await ctx.db.transaction(async (tx) => {
      const c = await ctx.credentials.create(tx, req.body.username, req.body.publish, actor(p));
      await audit(tx, actor(p), 'create', 'mqtt-credential', req.body.username, { publish: req.body.publish });
      return c;
    }).catch((e: { code?: string }) => {
      // two requests racing past the check above
      if (e.code === '23505') throw conflict(`MQTT username '${req.body.username}' already exists`);
      throw e;
    });
    return reply.code(201).send({ username: c.username, password: c.password, publish: req.body.publish });
  });
  app.get('/api/v1/mqtt-credentials', { schema: { tags: ['access'] } }, async (req) => {
    // who may publish what is for those who manage devices, not for responders and viewers
    needInstallation(need(req, 'credentials:read'), 'MQTT credentials');
    return { items: await ctx.credentials.list() };
  });
  app.delete('/api/v1/mqtt-credentials/:username', { schema: { tags: ['access'], params: z.object({ username: z.string() }) } }, async (req, reply) => {
    const p = need(req, 'credentials:write');
    needInstallation(p, 'MQTT credentials');
    const ok = await ctx.credentials.remove(ctx.db, req.params.username);
    if (!ok) throw notFound('MQTT credential', req.params.username);
    await audit(ctx.db, actor(p), 'delete', 'mqtt-credential', req.params.username);
    return reply.code(204).send();
  });
}
