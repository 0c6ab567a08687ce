// The DWD fetcher, in its own worker thread: downloads (or reads from a drop folder), unpacks and decodes,
// then posts plain results to the main thread. A hanging server or a slow decode never holds up ingestion,
// which runs on the main thread. Each job loops on its own; a pass never overlaps the previous one.
// [docs/dwd.md Fetching]
import { parentPort, workerData } from 'node:worker_threads';
import { parseCapFiles, parseCapZip } from './cap-parse.ts';
import { readDropFolder } from './folder-source.ts';
import { conditionalGet, type Validators } from './http-source.ts';
import type { RadarPoller } from './nowcast-job.ts';
import type { CapJob, FetchLimits, FromWorker, ToWorker, WorkerConfig } from './worker-protocol.ts';

const MAX_CAP_BYTES = 64 * 1024 * 1024;
const post = (m: FromWorker) => parentPort?.postMessage(m);
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

function loop(intervalMs: number, pass: () => Promise<void>): void {
  const run = async () => {
    await pass();
    setTimeout(run, intervalMs);
  };
  void run();
}

function capPass(job: CapJob, limits: FetchLimits, active: () => boolean): () => Promise<void> {
  let validators: Validators = {};
  let signature: string | undefined;
  return async () => {
    if (job.mode === 'http' && !active()) return; // no municipality has a warncell: nothing to fetch for
    try {
      if (job.mode === 'folder') {
        const d = await readDropFolder(job.dir);
        if (d.signature === signature) return post({ type: 'warnings-unchanged', at: Date.now() });
        const fromZip = d.zip ? parseCapZip(d.zip) : { alerts: [], problems: [] };
        const loose = parseCapFiles(d.xml);
        signature = d.signature;
        return post({ type: 'warnings', at: Date.now(), alerts: [...fromZip.alerts, ...loose.alerts], problems: [...fromZip.problems, ...loose.problems] });
      }
      const r = await conditionalGet(job.url, validators, { ...limits, maxBytes: MAX_CAP_BYTES });
      if (r.status === 'unchanged') return post({ type: 'warnings-unchanged', at: Date.now() });
      if (r.status === 'missing') throw new Error(`404 Not Found: ${job.url}`);
      const parsed = parseCapZip(r.bytes);
      validators = r.validators;
      post({ type: 'warnings', at: Date.now(), ...parsed });
    } catch (e) {
      post({ type: 'error', source: 'cap', at: Date.now(), message: errorText(e) });
    }
  };
}

function radarPass(poller: RadarPoller): () => Promise<void> {
  return async () => {
    if (poller.catchmentCount === 0) return; // no catchment: nothing to fetch for
    try {
      const result = await poller.poll(Date.now());
      if (result) post({ type: 'nowcast', at: Date.now(), result });
    } catch (e) {
      post({ type: 'error', source: 'radar', at: Date.now(), message: errorText(e) });
    }
  };
}

const cfg = workerData as WorkerConfig;
let capActive = cfg.cap?.active ?? false;
parentPort?.on('message', (m: ToWorker) => {
  if (m.type === 'cap-active') capActive = m.active;
});
if (cfg.cap)
  loop(
    cfg.cap.intervalMs,
    capPass(cfg.cap, cfg.limits, () => capActive),
  );
if (cfg.radar) {
  const radar = cfg.radar;
  let poller: Promise<RadarPoller> | undefined;
  // the first pass waits for the catchments, which the main thread sends right after the start; the radar code
  // (h5wasm, ≈ 40 MB) is loaded only then, so a thread that only reads warnings does without it
  parentPort?.on('message', (m: ToWorker) => {
    if (m.type !== 'catchments') return;
    if (!poller && m.catchments.length === 0) return; // none yet: the radar code stays unloaded
    const first = !poller;
    poller ??= import('./nowcast-job.ts').then(({ RadarPoller }) => new RadarPoller(radar, cfg.limits));
    void poller
      .then((p) => {
        p.setCatchments(m.catchments);
        if (first) loop(radar.intervalMs, radarPass(p));
      })
      .catch((e) => post({ type: 'error', source: 'radar', at: Date.now(), message: errorText(e) }));
  });
}
post({ type: 'ready' });
