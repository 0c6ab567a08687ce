import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { audit } from '../../audit.ts';
import { ROLES } from '../../auth/roles.ts';
import type { AppContext } from '../../context.ts';
import { actor, need } from '../app.ts';

export async function tokenRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.post(
    '/api/v1/tokens',
    { schema: { tags: ['access'], body: z.object({ name: z.string().min(1).max(100), role: z.enum(ROLES) }) } },
    async (req, reply) => {
      const p = need(req, 'tokens:write');
      const t = await ctx.tokens.create(req.body.name, req.body.role, actor(p));
      await audit(ctx.db, actor(p), 'create', 'token', String(t.id), { name: req.body.name, role: req.body.role });
      return reply.code(201).send({ id: t.id, name: req.body.name, role: req.body.role, token: t.token });
    },
  );
}
