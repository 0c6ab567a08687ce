// MQTT credentials for devices and bridges: a password shown once, stored hashed; topic ACLs. [docs/security.md]
import { z } from 'zod';
import { createCredential, credentialBody, removeCredential, rotateCredential } from '../../auth/credential-service.ts';
import { actor, need, orgFilter } from '../auth.ts';
import type { ApiRoutes } from '../plugin.ts';
import { itemsOf, noContent, responses } from '../schemas.ts';

const params = z.object({ username: z.string().max(200) });
const password = z.string().describe('shown only in this answer; stored hashed');
const credential = z.object({
  username: z.string(),
  publish: z.array(z.string()),
  subscribe: z.array(z.string()),
  org: z.string().nullable(),
  createdAt: z.string(),
});

export const mqttCredentialRoutes: ApiRoutes = async (app, { ctx }) => {
  app.post(
    '',
    {
      schema: {
        tags: ['access'],
        summary: 'Create an MQTT credential (password shown once)',
        body: credentialBody.meta({ examples: [{ username: 'gauge-01', publish: ['devices/gauge-01/up'] }] }),
        response: responses({ 201: credential.omit({ createdAt: true }).extend({ password }) }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'credentials:write');
      return reply.code(201).send(await createCredential(ctx, p, actor(p), req.body));
    },
  );
  app.get(
    '',
    { schema: { tags: ['access'], summary: 'List MQTT credentials (never a password or its hash)', response: responses({ 200: itemsOf(credential) }) } },
    async (req) => {
      // who may publish what is for those who manage devices, not for responders and viewers
      const p = need(req, 'credentials:read');
      return { items: await ctx.credentials.list(orgFilter(p)) };
    },
  );
  app.delete(
    '/:username',
    {
      schema: { tags: ['access'], summary: 'Delete an MQTT credential and close its connections', params, response: responses({ 204: noContent }) },
    },
    async (req, reply) => {
      const p = need(req, 'credentials:write');
      await removeCredential(ctx, p, actor(p), req.params.username);
      return reply.code(204).send();
    },
  );
  // a new password, shown once; connections made with the old one are closed
  app.post(
    '/:username/rotate',
    {
      schema: {
        tags: ['access'],
        summary: 'Give an MQTT credential a new password (shown once); the old one stops working',
        params,
        response: responses({ 200: z.object({ username: z.string(), password }) }),
      },
    },
    async (req) => {
      const p = need(req, 'credentials:write');
      return rotateCredential(ctx, p, actor(p), req.params.username);
    },
  );
};
