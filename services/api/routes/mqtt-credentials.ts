import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createCredential, credentialBody, removeCredential, rotateCredential } from '../../auth/credential-service.ts';
import type { AppContext } from '../../context.ts';
import { actor, need, orgFilter } from '../auth.ts';

const params = z.object({ username: z.string().max(200) });

export async function mqttCredentialRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.post('/api/v1/mqtt-credentials', { schema: { tags: ['access'], body: credentialBody } }, async (req, reply) => {
    const p = need(req, 'credentials:write');
    return reply.code(201).send(await createCredential(ctx, p, actor(p), req.body));
  });
  app.get('/api/v1/mqtt-credentials', { schema: { tags: ['access'] } }, async (req) => {
    // who may publish what is for those who manage devices, not for responders and viewers
    const p = need(req, 'credentials:read');
    return { items: await ctx.credentials.list(orgFilter(p)) };
  });
  app.delete('/api/v1/mqtt-credentials/:username', { schema: { tags: ['access'], params } }, async (req, reply) => {
    const p = need(req, 'credentials:write');
    await removeCredential(ctx, p, actor(p), req.params.username);
    return reply.code(204).send();
  });
  // a new password, shown once; connections made with the old one are closed
  app.post('/api/v1/mqtt-credentials/:username/rotate', { schema: { tags: ['access'], params } }, async (req) => {
    const p = need(req, 'credentials:write');
    return rotateCredential(ctx, p, actor(p), req.params.username);
  });
}
