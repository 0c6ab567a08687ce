// API tokens (admins only). The secret is shown once, at creation; lists never carry it or its hash.
import { z } from 'zod';
import { ROLES } from '../../auth/roles.ts';
import { createToken, revokeToken, tokenBody } from '../../auth/token-service.ts';
import { actor, need } from '../auth.ts';
import type { ApiRoutes } from '../plugin.ts';
import { dbId, idParam, itemsOf, noContent, responses } from '../schemas.ts';

const tokenInfo = z.object({
  id: dbId,
  name: z.string(),
  role: z.enum(ROLES),
  org: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
});
const created = z.object({
  id: dbId,
  name: z.string(),
  role: z.enum(ROLES),
  org: z.string().optional(),
  expiresAt: z.string().optional(),
  token: z.string().describe('the bearer token; shown only in this answer, stored hashed'),
});

export const tokenRoutes: ApiRoutes = async (app, { ctx }) => {
  app.post(
    '',
    {
      schema: {
        tags: ['access'],
        summary: 'Create an API token (shown once)',
        body: tokenBody.meta({ examples: [{ name: 'leitstelle-giessen', role: 'responder', org: 'giessen' }] }),
        response: responses({ 201: created }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'tokens:write');
      return reply.code(201).send(await createToken(ctx, p, actor(p), req.body));
    },
  );

  // Live tokens without their secrets; a municipality's admin sees its municipality's only. [docs/api.md]
  app.get('', { schema: { tags: ['access'], summary: 'List live tokens (never a secret)', response: responses({ 200: itemsOf(tokenInfo) }) } }, async (req) => {
    const p = need(req, 'tokens:write');
    return { items: await ctx.tokens.list(p.org) };
  });

  app.delete(
    '/:id',
    { schema: { tags: ['access'], summary: 'Revoke a token (it answers 401 from then on)', params: idParam, response: responses({ 204: noContent }) } },
    async (req, reply) => {
      const p = need(req, 'tokens:write');
      await revokeToken(ctx, p, actor(p), req.params.id);
      return reply.code(204).send();
    },
  );
};
