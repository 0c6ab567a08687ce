// Step 5b: the DWD inputs — official warnings and the radar nowcast — fetched and decoded in one worker thread,
// their results stored as readings of virtual devices through the ingest writer. [docs/dwd.md]
import type { AppContext } from '../context.ts';
import { CatchmentStore } from '../dwd/catchment-store.ts';
import { DwdWorker } from '../dwd/dwd-worker.ts';
import { NowcastFeed } from '../dwd/nowcast-feed.ts';
import { storedWarncells } from '../dwd/warncell-store.ts';
import { WarningFeed } from '../dwd/warning-feed.ts';
import type { FromWorker, WorkerConfig } from '../dwd/worker-protocol.ts';
import type { IngestService } from '../ingest/ingest-service.ts';
import type { Stops } from './stops.ts';

/** how often level changes at a warning's onset/expiry are looked for between fetches */
const WARNING_TICK_MS = 15_000;

export async function startDwd(ctx: AppContext, ingest: IngestService | undefined, now: () => number, stops: Stops): Promise<void> {
  const { dwd } = ctx.config;
  const capMode = dwd.warnings.mode;
  const radarMode = dwd.radar.mode;
  if (!ingest || (capMode === 'off' && radarMode === 'off')) return;
  const log = ctx.log.child({ component: 'dwd' });
  const store = (rs: Parameters<IngestService['storeReadings']>[0]) => ingest.storeReadings(rs);
  const warncells = { ...dwd.warncells, ...(await storedWarncells(ctx.db)) };
  const config: WorkerConfig = {
    ...(capMode !== 'off' && { cap: { ...dwd.warnings, mode: capMode, active: Object.keys(warncells).length > 0 } }),
    ...(radarMode !== 'off' && { radar: dwd.radar }),
    limits: dwd.fetch,
  };
  const handlers: Array<(m: FromWorker) => void> = [];
  const worker = new DwdWorker(config, (m) => handlers.forEach((h) => h(m)), log);
  ctx.dwd = {};
  if (capMode !== 'off') {
    const warnings = new WarningFeed({
      devices: ctx.devices,
      store,
      now,
      log,
      warncells,
      intervalMs: dwd.warnings.intervalMs,
      onDemand: (active) => worker.post({ type: 'cap-active', active }),
    });
    if (Object.keys(warncells).length === 0)
      log.info('no municipality has a DWD warncell yet: warnings are fetched once one is set (PUT /api/v1/orgs/{org}, DWD_WARNCELLS or CAP_ARS)');
    handlers.push((m) => warnings.onMessage(m));
    const timer = setInterval(
      () => void warnings.evaluate().catch((e) => log.warn({ err: (e as Error).message }, 'DWD warning levels not stored')),
      Math.min(WARNING_TICK_MS, dwd.warnings.intervalMs),
    );
    timer.unref();
    stops.push(async () => clearInterval(timer));
    ctx.dwd.warnings = warnings;
  }
  if (radarMode !== 'off') {
    const nowcast = new NowcastFeed({ store: new CatchmentStore(ctx.db), devices: ctx.devices, write: store, post: (m) => worker.post(m), log });
    handlers.push((m) => nowcast.onMessage(m));
    ctx.dwd.nowcast = nowcast;
  }
  worker.start();
  ctx.dwd.worker = worker;
  ctx.dwd.nowcast?.reload();
  stops.push(() => worker.stop());
}
