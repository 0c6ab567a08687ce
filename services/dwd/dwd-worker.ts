// Starts the DWD fetch worker, hands its messages on, and restarts it (with backoff) when it dies. Its heap is
// capped, so a runaway decode ends the worker, not the process. [docs/dwd.md Fetching]
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FromWorker, ToWorker, WorkerConfig } from './worker-protocol.ts';

const BOOT = new URL('./fetch-worker-boot.mjs', import.meta.url);
const MAX_RESTART_MS = 60_000;

export class DwdWorker {
  private worker?: Worker;
  private stopped = false;
  private restartMs = 1000;
  private timer?: NodeJS.Timeout;
  /** the last catchments message, sent again to a restarted worker */
  private catchments?: unknown;

  constructor(
    private config: WorkerConfig,
    private onMessage: (m: FromWorker) => void,
    private log: Logger,
    private heapMb = 256,
  ) {}

  start(): void {
    if (this.stopped) return;
    const w = new Worker(BOOT, { workerData: this.config, execArgv: [], resourceLimits: { maxOldGenerationSizeMb: this.heapMb } });
    this.worker = w;
    if (this.catchments) w.postMessage(this.catchments);
    w.on('message', (m: FromWorker) => {
      this.restartMs = 1000;
      try {
        this.onMessage(m);
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'handling a DWD worker message failed');
      }
    });
    w.on('error', (e) => this.log.error({ err: e.message }, 'DWD fetch worker failed'));
    w.on('exit', (code) => {
      if (this.stopped || this.worker !== w) return;
      this.log.warn({ code, restartInMs: this.restartMs }, 'DWD fetch worker ended; restarting');
      this.timer = setTimeout(() => {
        this.restarts++;
        this.start();
      }, this.restartMs);
      this.timer.unref();
      this.restartMs = Math.min(MAX_RESTART_MS, this.restartMs * 2);
    });
  }

  post(m: ToWorker): void {
    if (m.type === 'catchments') this.catchments = m;
    // a restarted worker starts with the current demand
    if (m.type === 'cap-active' && this.config.cap) this.config = { ...this.config, cap: { ...this.config.cap, active: m.active } };
    this.worker?.postMessage(m);
  }

  /** restarts so far (a worker that died and was started again) */
  restarts = 0;

  /** Ends the current worker thread the way a crash does (operations, tests): it is restarted with backoff. */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.worker?.terminate();
  }
}
