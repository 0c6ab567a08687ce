import { z } from 'zod';
import { createToken, revokeToken, tokenBody } from '../../auth/token-service.ts';
import { actor, need } from '../auth.ts';
import type { ApiRoutes } from '../plugin.ts';

export const tokenRoutes: ApiRoutes = async (app, { ctx }) => {
  app.post('', { schema: { tags: ['access'], body: tokenBody } }, async (req, reply) => {
    const p = need(req, 'tokens:write');
    return reply.code(201).send(await createToken(ctx, p, actor(p), req.body));
  });

  // Live tokens without their secrets; a municipality's admin sees its municipality's only. [docs/api.md]
  app.get('', { schema: { tags: ['access'] } }, async (req) => {
    const p = need(req, 'tokens:write');
    return { items: await ctx.tokens.list(p.org) };
  });

  app.delete('/:id', { schema: { tags: ['access'], params: z.object({ id: z.string() }) } }, async (req, reply) => {
    const p = need(req, 'tokens:write');
    await revokeToken(ctx, p, actor(p), req.params.id);
    return reply.code(204).send();
  });
};
