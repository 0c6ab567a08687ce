// People's accounts over the JSON API, for the installation's admin token (the first admin) and for
// municipality admins (their own municipality only). [issue 13]
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actor, need, orgFilter, orgFor } from '../api/auth.ts';
import { ApiError, notFound } from '../api/errors.ts';
import { itemsOf, noContent, responses } from '../api/schemas.ts';
import { audit } from '../audit-store.ts';
import { orgSchema } from '../auth/orgs.ts';
import { ROLES } from '../auth/roles.ts';
import type { Queryable } from '../db/db.ts';
import { UserError, type UserStore } from './users.ts';

export async function userApiRoutes(fastify: FastifyInstance, users: UserStore, db: Queryable) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const body = z.object({
    login: z.string(),
    name: z.string().max(200).optional(),
    role: z.enum(ROLES),
    org: orgSchema.nullable().optional(),
    password: z.string(),
  });
  const userOut = z
    .object({
      id: z.number(),
      login: z.string(),
      name: z.string(),
      role: z.enum(ROLES),
      org: z.string().nullable().describe('null: the whole installation'),
      lockedUntil: z.string().nullable().describe('set while the account is locked after failed logins'),
      createdAt: z.string(),
    })
    .meta({ id: 'User' });
  const bad = (e: unknown): never => {
    if (e instanceof UserError) throw new ApiError(/exists/.test(e.message) ? 'CONFLICT' : 'VALIDATION_FAILED', e.message, []);
    throw e;
  };

  app.post(
    '/api/v1/users',
    {
      schema: {
        tags: ['access'],
        summary: 'Create a console user (login with a password)',
        body: body.meta({ examples: [{ login: 'leitstelle', name: 'Leitstelle Gießen', role: 'operator', org: 'giessen', password: 'regen-stumm-2026' }] }),
        response: responses({ 201: userOut }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'tokens:write');
      const b = req.body;
      // an installation-wide admin makes users of any municipality or of the whole installation (no org);
      // a municipality admin only users of its own municipality
      const org = p.org === null ? (b.org ?? null) : orgFor(p, b.org ?? undefined);
      const u = await users.create({ login: b.login, name: b.name, role: b.role, org, password: b.password }, actor(p)).catch(bad);
      await audit(db, actor(p), 'create', 'user', u.login, { role: u.role, org: u.org });
      return reply.code(201).send(u);
    },
  );
  app.get('/api/v1/users', { schema: { tags: ['access'], summary: 'List console users', response: responses({ 200: itemsOf(userOut) }) } }, async (req) => {
    const p = need(req, 'tokens:write');
    return { items: await users.list(orgFilter(p)) };
  });
  app.delete(
    '/api/v1/users/:login',
    { schema: { tags: ['access'], summary: 'Delete a console user', params: z.object({ login: z.string() }), response: responses({ 204: noContent }) } },
    async (req, reply) => {
      const p = need(req, 'tokens:write');
      const u = await users.byLogin(req.params.login);
      if (!u || (p.org !== null && u.org !== p.org)) throw notFound('user', req.params.login);
      await users.remove(u.login);
      await audit(db, actor(p), 'delete', 'user', u.login);
      return reply.code(204).send();
    },
  );
}
