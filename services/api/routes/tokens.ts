import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { audit } from '../../audit.ts';
import { orgSchema } from '../../auth/orgs.ts';
import { ROLES } from '../../auth/roles.ts';
import type { AppContext } from '../../context.ts';
import { actor, need } from '../app.ts';
import { ApiError } from '../errors.ts';

export async function tokenRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.post(
    '/api/v1/tokens',
    { schema: { tags: ['access'], body: z.object({ name: z.string().min(1).max(100), role: z.enum(ROLES), org: orgSchema.optional() }) } },
    async (req, reply) => {
      const p = need(req, 'tokens:write');
      // A municipality's admin hands out tokens of its own municipality only; omitted org: the creator's.
      if (p.org !== null && req.body.org !== undefined && req.body.org !== p.org) {
        throw new ApiError('FORBIDDEN', `this token belongs to municipality '${p.org}' and may only create tokens for '${p.org}', not '${req.body.org}'`);
      }
      const org = p.org ?? req.body.org ?? null;
      const t = await ctx.tokens.create(req.body.name, req.body.role, actor(p), org);
      await audit(ctx.db, actor(p), 'create', 'token', String(t.id), { name: req.body.name, role: req.body.role, ...(org !== null && { org }) });
      return reply.code(201).send({ id: t.id, name: req.body.name, role: req.body.role, ...(org !== null && { org }), token: t.token });
    },
  );
}
