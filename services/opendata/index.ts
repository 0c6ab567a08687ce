// Open data (issue 15): the opt-in setting on the operator API, and the anonymous endpoints — SensorThings
// API, bulk downloads, DCAT-AP.de catalogue, public CAP feed — with their own CORS, caching and rate limit.
// Registered on the API app with one line (services/api/routes/index.ts). [docs/opendata.md] [README.md Open data]
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';
import { dcatRoutes } from './dcat/dcat-routes.ts';
import { downloadRoutes } from './downloads/download-routes.ts';
import { OpenGate, openHttpHooks } from './open-http.ts';
import { publicCapRoutes } from './public-cap.ts';
import { openDataSettingsRoutes } from './settings-routes.ts';
import { staRoutes } from './sta/sta-routes.ts';

/** Open-data requests served at once, and how many may wait; the pool has 10 connections (services/db/pg-driver.ts). */
const OPEN_DATA_CONCURRENCY = 1;
const OPEN_DATA_QUEUE = 500;

export async function openDataRoutes(app: FastifyInstance, ctx: AppContext) {
  await openDataSettingsRoutes(app, ctx);
  await app.register(async (open) => {
    // the embedded store has one connection: open data gets at most half of it (a rest as long as each request)
    const rest = ctx.db.kind === 'pglite' ? 1 : 0;
    openHttpHooks(open, ['/sta', '/dcat', '/open'], new OpenGate(OPEN_DATA_CONCURRENCY, OPEN_DATA_QUEUE, rest));
    await staRoutes(open, ctx);
    await downloadRoutes(open, ctx);
    await dcatRoutes(open, ctx);
    await publicCapRoutes(open, ctx);
  });
}
