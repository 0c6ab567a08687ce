// The DWD inputs as they stand: which rain warnings are in force per municipality, when the feed last
// succeeded, and what it rejected. [docs/dwd.md] [docs/api.md DWD]
import { z } from 'zod';
import { need, sees } from '../auth.ts';
import type { ApiRoutes } from '../plugin.ts';
import { responses } from '../schemas.ts';

const WarningInForce = z.object({
  warncell: z.string(),
  level: z.number().int(),
  event: z.string(),
  headline: z.string(),
  onset: z.string(),
  expires: z.string().nullable(),
});

const WarningsStatus = z.object({
  enabled: z.boolean(),
  healthy: z.boolean(),
  lastSuccessAt: z.string().nullable(),
  lastSnapshotAt: z.string().nullable(),
  lastError: z.object({ at: z.string(), message: z.string() }).nullable(),
  inForce: z.record(z.string(), z.array(WarningInForce)),
  rejectedFiles: z.array(z.object({ file: z.string(), reason: z.string() })),
  attribution: z.string(),
});

const NowcastStatus = z.object({
  enabled: z.boolean(),
  lastRun: z.string().nullable(),
  format: z.enum(['hdf5', 'binary']).nullable(),
  members: z.number(),
  lastError: z.object({ at: z.string(), message: z.string() }).nullable(),
  attribution: z.string(),
});

export const DWD_ATTRIBUTION_TEXT = 'Datenbasis: Deutscher Wetterdienst (CC BY 4.0)';

export const dwdRoutes: ApiRoutes = async (app, { ctx }) => {
  app.get(
    '/warnings',
    {
      schema: {
        tags: ['dwd'],
        summary: 'DWD warnings feed: rain warnings in force per municipality, last fetch, rejected files',
        response: responses({ 200: WarningsStatus }),
      },
    },
    async (req) => {
      const p = need(req, 'read');
      const feed = ctx.dwd?.warnings;
      if (!feed)
        return {
          enabled: false,
          healthy: false,
          lastSuccessAt: null,
          lastSnapshotAt: null,
          lastError: null,
          inForce: {},
          rejectedFiles: [],
          attribution: DWD_ATTRIBUTION_TEXT,
        };
      const s = feed.status();
      // a municipality's token sees its own warnings only
      const inForce = Object.fromEntries(Object.entries(s.inForce).filter(([org]) => sees(p, org)));
      return { enabled: true, ...s, inForce, attribution: DWD_ATTRIBUTION_TEXT };
    },
  );

  app.get(
    '/nowcast',
    {
      schema: { tags: ['dwd'], summary: 'DWD radar nowcast: the last run processed, its format, the last error', response: responses({ 200: NowcastStatus }) },
    },
    async (req) => {
      need(req, 'read');
      const feed = ctx.dwd?.nowcast;
      if (!feed) return { enabled: false, lastRun: null, format: null, members: 0, lastError: null, attribution: DWD_ATTRIBUTION_TEXT };
      return { enabled: true, ...feed.status(), attribution: DWD_ATTRIBUTION_TEXT };
    },
  );
};
