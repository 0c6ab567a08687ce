import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { audit } from '../../audit.ts';
import { orgSchema } from '../../auth/orgs.ts';
import { ROLES } from '../../auth/roles.ts';
import type { AppContext } from '../../context.ts';
import { bigintId } from '../../db/ids.ts';
import { actor, need } from '../auth.ts';
import { ApiError, notFound } from '../errors.ts';

const createBody = z.object({
  name: z.string().min(1).max(100),
  role: z.enum(ROLES),
  org: orgSchema.optional(),
  /** optional end of validity; the token answers 401 from then on */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});

export async function tokenRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.post('/api/v1/tokens', { schema: { tags: ['access'], body: createBody } }, async (req, reply) => {
    const p = need(req, 'tokens:write');
    // A municipality's admin hands out tokens of its own municipality only; omitted org: the creator's.
    if (p.org !== null && req.body.org !== undefined && req.body.org !== p.org) {
      throw new ApiError('FORBIDDEN', `this token belongs to municipality '${p.org}' and may only create tokens for '${p.org}', not '${req.body.org}'`);
    }
    const expiresAt = req.body.expiresAt ? new Date(req.body.expiresAt) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw new ApiError('VALIDATION_FAILED', 'invalid request: body.expiresAt: must be in the future', [
        { path: 'body.expiresAt', message: 'must be in the future' },
      ]);
    }
    const org = p.org ?? req.body.org ?? null;
    const t = await ctx.tokens.create(req.body.name, req.body.role, actor(p), org, expiresAt);
    await audit(ctx.db, actor(p), 'create', 'token', String(t.id), {
      name: req.body.name,
      role: req.body.role,
      ...(org !== null && { org }),
      ...(expiresAt && { expiresAt }),
    });
    return reply.code(201).send({
      id: t.id,
      name: req.body.name,
      role: req.body.role,
      ...(org !== null && { org }),
      ...(expiresAt && { expiresAt: expiresAt.toISOString() }),
      token: t.token,
    });
  });

  // Live tokens without their secrets; a municipality's admin sees its municipality's only. [docs/api.md]
  app.get('/api/v1/tokens', { schema: { tags: ['access'] } }, async (req) => {
    const p = need(req, 'tokens:write');
    return { items: await ctx.tokens.list(p.org) };
  });

  app.delete('/api/v1/tokens/:id', { schema: { tags: ['access'], params: z.object({ id: z.string() }) } }, async (req, reply) => {
    const p = need(req, 'tokens:write');
    const id = bigintId(req.params.id);
    if (id === undefined || !(await ctx.tokens.revoke(id, p.org))) throw notFound('token', req.params.id);
    await audit(ctx.db, actor(p), 'revoke', 'token', String(id));
    return reply.code(204).send();
  });
}
