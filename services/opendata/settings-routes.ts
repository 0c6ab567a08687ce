// A municipality switches open data on and off: PUT/GET /api/v1/orgs/{org}/open-data (installation admin, or
// that municipality's admin). [docs/opendata.md]
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actor, need, orgFor, sees } from '../api/auth.ts';
import { notFound } from '../api/errors.ts';
import { audit } from '../audit-store.ts';
import { orgSchema } from '../auth/orgs.ts';
import type { AppContext } from '../context.ts';
import { DEFAULT_LICENSE, getOpenData, LICENSES, putOpenData } from './open-data-settings.ts';

const settingsSchema = z.object({
  org: z.string(),
  enabled: z.boolean(),
  license: z.string(),
  licenseUri: z.string(),
  publisher: z.string().nullable(),
  contact: z.string().nullable(),
  updatedAt: z.string(),
});

export const openDataBody = z.object({
  enabled: z.boolean(),
  license: z
    .string()
    .refine((l) => Object.hasOwn(LICENSES, l), `license must be one of ${Object.keys(LICENSES).join(', ')}`)
    .default(DEFAULT_LICENSE),
  /** who publishes the data, as GovData shows it (e.g. "Stadt Gießen") */
  publisher: z.string().trim().min(1).max(200).nullable().optional(),
  /** an e-mail address or web page for questions about the data */
  contact: z
    .string()
    .trim()
    .max(200)
    .refine((c) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(c) || /^https?:\/\/\S+$/.test(c), 'contact must be an e-mail address or an http(s) URL')
    .nullable()
    .optional(),
});

const withUri = (s: Awaited<ReturnType<typeof getOpenData>>) => ({ ...s, licenseUri: LICENSES[s.license]?.uri ?? s.license });

export async function openDataSettingsRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const params = z.object({ org: orgSchema });

  app.get(
    '/api/v1/orgs/:org/open-data',
    { schema: { tags: ['open data'], summary: "A municipality's open-data setting", params, response: { 200: settingsSchema } } },
    async (req) => {
      const p = need(req, 'read');
      if (!sees(p, req.params.org)) throw notFound('municipality', req.params.org);
      return withUri(await getOpenData(ctx.db, req.params.org));
    },
  );

  app.put(
    '/api/v1/orgs/:org/open-data',
    {
      schema: {
        tags: ['open data'],
        summary: 'Switch open data on or off for a municipality (licence, publisher, contact)',
        params,
        body: openDataBody,
        response: { 200: settingsSchema },
      },
    },
    async (req) => {
      const p = need(req, 'tokens:write'); // admins only: publishing is the municipality's decision
      const org = orgFor(p, req.params.org);
      const b = req.body;
      const s = await ctx.db.transaction(async (tx) => {
        const cur = await getOpenData(tx, org);
        const next = await putOpenData(tx, {
          org,
          enabled: b.enabled,
          license: b.license,
          publisher: b.publisher === undefined ? cur.publisher : b.publisher,
          contact: b.contact === undefined ? cur.contact : b.contact,
        });
        await audit(tx, actor(p), 'update', 'open-data', org, b);
        return next;
      });
      return withUri(s);
    },
  );
}
