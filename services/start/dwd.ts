// Step 5b: the DWD inputs (warnings now; the radar nowcast feeds the same way) in a worker thread, their
// results stored as readings of virtual devices through the ingest writer. [docs/dwd.md]

import type { AppContext } from '../context.ts';
import { DwdWorker } from '../dwd/dwd-worker.ts';
import { WarningFeed } from '../dwd/warning-feed.ts';
import type { WorkerConfig } from '../dwd/worker-protocol.ts';
import type { IngestService } from '../ingest/ingest-service.ts';
import type { Stops } from './stops.ts';

/** how often level changes at a warning's onset/expiry are looked for between fetches */
const WARNING_TICK_MS = 15_000;

export async function startDwd(ctx: AppContext, ingest: IngestService | undefined, now: () => number, stops: Stops): Promise<void> {
  const { dwd } = ctx.config;
  const mode = dwd.warnings.mode;
  if (!ingest || mode === 'off') return;
  const log = ctx.log.child({ component: 'dwd' });
  const warnings = new WarningFeed({
    devices: ctx.devices,
    store: (rs) => ingest.storeReadings(rs),
    now,
    log,
    warncells: dwd.warncells,
    intervalMs: dwd.warnings.intervalMs,
  });
  if (Object.keys(dwd.warncells).length === 0) log.warn('DWD_WARNINGS is on but no municipality has a warncell: set DWD_WARNCELLS or CAP_ARS');
  await warnings.ensureDevices();
  const config: WorkerConfig = { cap: { ...dwd.warnings, mode }, limits: dwd.fetch };
  const worker = new DwdWorker(config, (m) => warnings.onMessage(m), log);
  worker.start();
  const tickMs = Math.min(WARNING_TICK_MS, dwd.warnings.intervalMs);
  const timer = setInterval(() => void warnings.evaluate().catch((e) => log.warn({ err: (e as Error).message }, 'DWD warning levels not stored')), tickMs);
  timer.unref();
  ctx.dwd = { warnings };
  stops.push(async () => {
    clearInterval(timer);
    await worker.stop();
  });
}
