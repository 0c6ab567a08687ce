// A municipality's settings for the DWD inputs: PUT/GET /api/v1/orgs/{org} {"warncellId":"806631009"} — the DWD
// warncell (8 + the 8-digit AGS) whose warnings the municipality's dwd_warning rules see. [docs/dwd.md Warnings]
import { z } from 'zod';
import { orgSchema } from '../../auth/orgs.ts';
import { setOrgWarncell, warncellIdSchema, warncellOf } from '../../dwd/warncell-service.ts';
import { actor, need, orgFor, sees } from '../auth.ts';
import { notFound } from '../errors.ts';
import type { ApiRoutes } from '../plugin.ts';
import { responses } from '../schemas.ts';

const Params = z.object({ org: orgSchema });
const Body = z.strictObject({
  /** null: back to DWD_WARNCELLS / CAP_ARS (or none) */
  warncellId: warncellIdSchema.nullable(),
});
const Org = z.object({ org: z.string(), warncellId: z.string().nullable() });

export const orgRoutes: ApiRoutes = async (app, { ctx }) => {
  app.get('/:org', { schema: { tags: ['dwd'], summary: "A municipality's DWD warncell", params: Params, response: responses({ 200: Org }) } }, async (req) => {
    const p = need(req, 'read');
    if (!sees(p, req.params.org)) throw notFound('municipality', req.params.org);
    return { org: req.params.org, warncellId: await warncellOf(ctx, req.params.org) };
  });

  app.put(
    '/:org',
    {
      schema: {
        tags: ['dwd'],
        summary: "Set a municipality's DWD warncell (its warnings become the input of dwd_warning rules)",
        params: Params,
        body: Body,
        response: responses({ 200: Org }),
      },
    },
    async (req) => {
      const p = need(req, 'rules:write');
      const org = orgFor(p, req.params.org);
      return { org, warncellId: await setOrgWarncell(ctx, actor(p), org, req.body.warncellId) };
    },
  );
};
