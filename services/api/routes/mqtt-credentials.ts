import { z } from 'zod';
import { createCredential, credentialBody, removeCredential, rotateCredential } from '../../auth/credential-service.ts';
import { actor, need, orgFilter } from '../auth.ts';
import type { ApiRoutes } from '../plugin.ts';

const params = z.object({ username: z.string().max(200) });

export const mqttCredentialRoutes: ApiRoutes = async (app, { ctx }) => {
  app.post('', { schema: { tags: ['access'], body: credentialBody } }, async (req, reply) => {
    const p = need(req, 'credentials:write');
    return reply.code(201).send(await createCredential(ctx, p, actor(p), req.body));
  });
  app.get('', { schema: { tags: ['access'] } }, async (req) => {
    // who may publish what is for those who manage devices, not for responders and viewers
    const p = need(req, 'credentials:read');
    return { items: await ctx.credentials.list(orgFilter(p)) };
  });
  app.delete('/:username', { schema: { tags: ['access'], params } }, async (req, reply) => {
    const p = need(req, 'credentials:write');
    await removeCredential(ctx, p, actor(p), req.params.username);
    return reply.code(204).send();
  });
  // a new password, shown once; connections made with the old one are closed
  app.post('/:username/rotate', { schema: { tags: ['access'], params } }, async (req) => {
    const p = need(req, 'credentials:write');
    return rotateCredential(ctx, p, actor(p), req.params.username);
  });
};
