// Answers of the console's own JSON routes, read by its scripts in services/web/public/. They are not part of
// the API (session cookie, not a token; hidden from /openapi.json), but like every JSON route they have a
// response schema: it validates and serialises the answer and names its shape for the scripts' reader.
import { z } from 'zod';
import { SEVERITIES } from '../../alerts/types.ts';

const severity = z.enum(SEVERITIES);

/** GET /stations.json: the Lagebild's markers (services/web/situation.ts StationView) */
export const stationsJson = z.object({
  stations: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      org: z.string(),
      lat: z.number().nullable(),
      lon: z.number().nullable(),
      status: z.union([z.literal('ok'), severity, z.literal('offline')]),
      lastSeen: z.number().nullable().describe('epoch ms of the newest reading'),
      openAlarms: z.number(),
    }),
  ),
});

const cell = z.number().nullable();
/** GET /stations/:id/charts.json: what uPlot draws on a station page (services/web/pages/station.ts Chart) */
export const chartsJson = z.object({
  charts: z.array(
    z.object({
      metric: z.string(),
      unit: z.string(),
      kind: z.enum(['line', 'rain']),
      title: z.string(),
      x: z.array(z.number()),
      good: z.array(cell).optional(),
      flagged: z.array(cell).optional(),
      bars: z.array(z.number()).optional(),
      sum1h: z.array(z.number()).optional(),
      sum6h: z.array(z.number()).optional(),
      bucketMin: z.number().optional(),
      lines: z.array(z.object({ value: z.number(), severity, label: z.string(), scale: z.enum(['y', 'sum']) })),
      alarms: z.array(z.object({ from: z.number(), to: z.number(), severity })),
    }),
  ),
  lastSeen: z.string().nullable().describe('local time of the newest uplink, as the page shows it'),
});

/** GET /stations/:id/latest.json: the newest value of each metric, for the Lagebild's popup */
export const latestJson = z.object({
  lastSeen: z.number().nullable().describe('epoch ms'),
  values: z.record(z.string(), z.number()),
});
