// Starts the DWD fetch worker when it has work, hands its messages on, restarts it (with backoff) when it dies,
// and ends it again once it has had nothing to do for a while. Its heap is capped, so a runaway decode ends the
// worker, not the process. [docs/dwd.md Fetching]
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FromWorker, ToWorker, WorkerConfig } from './worker-protocol.ts';

const BOOT = new URL('./fetch-worker-boot.mjs', import.meta.url);
const MAX_RESTART_MS = 60_000;
/** a thread without work (no warncell, no catchment) is ended after this long; it starts again with the work */
export const DWD_WORKER_IDLE_MS = 5 * 60_000;

/**
 * One thread at most, in one of three states: running (`worker` set), waiting to be restarted after it died
 * (`restartTimer` set), or none. Whether there should be one is decided in one place, `reconcile()`, after
 * every change of the work (start, a warncell or catchment change, a crash, the idle timer), so a change that
 * arrives while the thread is booting, dying or waiting for its restart is never lost: a new thread is made
 * from the current work (`config`, `catchments`), never from the messages it missed.
 */
export class DwdWorker {
  private worker?: Worker;
  private started = false;
  private stopped = false;
  private restartMs = 1000;
  private restartTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  /** the thread now running is a restart of one that died: counted in `restarts` once it is up */
  private restarting = false;
  /** the last catchments message, sent again to a new thread */
  private catchments?: Extract<ToWorker, { type: 'catchments' }>;

  /** restarts so far: threads that died and were started again, counted once the new one is up */
  restarts = 0;
  /** threads started so far (the first, restarts, and starts after an idle stop) */
  starts = 0;

  constructor(
    private config: WorkerConfig,
    private onMessage: (m: FromWorker) => void,
    private log: Logger,
    private heapMb = 256,
    private idleMs = DWD_WORKER_IDLE_MS,
  ) {}

  /** Something to do: a drop folder to read, warnings to fetch for a warncell, or catchments for the radar. */
  private hasWork(): boolean {
    return (
      this.config.cap?.mode === 'folder' ||
      this.config.cap?.active === true ||
      (this.config.radar !== undefined && (this.catchments?.catchments.length ?? 0) > 0)
    );
  }

  /** whether a thread is running now (not: waiting to be restarted, idle-stopped, or never needed) */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** The thread runs from the first moment it has something to fetch or read: an installation without DWD
   *  inputs in use carries no idle thread (≈ 50–100 MB RSS built; several hundred MB when run from the
   *  TypeScript sources, where the thread loads its own tsx). */
  start(): void {
    this.started = true;
    this.reconcile();
  }

  post(m: ToWorker): void {
    if (m.type === 'catchments') this.catchments = m;
    // a new thread starts with the current demand
    if (m.type === 'cap-active' && this.config.cap) this.config = { ...this.config, cap: { ...this.config.cap, active: m.active } };
    this.worker?.postMessage(m);
    this.reconcile();
  }

  private reconcile(): void {
    if (this.stopped || !this.started) return;
    if (this.hasWork()) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      // a thread that died is started again by its restart timer, with backoff, not at once
      if (!this.worker && !this.restartTimer) this.spawn();
      return;
    }
    if (this.worker && !this.idleTimer) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        if (this.hasWork() || !this.worker) return;
        this.log.info({ idleMs: this.idleMs }, 'DWD fetch worker had nothing to do; ended until there is work');
        this.end();
      }, this.idleMs);
      this.idleTimer.unref();
    }
  }

  private spawn(): void {
    const w = new Worker(BOOT, { workerData: this.config, execArgv: [], resourceLimits: { maxOldGenerationSizeMb: this.heapMb } });
    this.worker = w;
    this.starts++;
    if (this.catchments) w.postMessage(this.catchments);
    w.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        if (this.worker === w && this.restarting) this.restarts++;
        if (this.worker === w) this.restarting = false;
        return; // being up is not yet working: a thread that dies in every pass keeps backing off
      }
      this.restartMs = 1000; // a pass finished (or reported its error): the thread works
      try {
        this.onMessage(m);
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'handling a DWD worker message failed');
      }
    });
    w.on('error', (e) => this.log.error({ err: e.message }, 'DWD fetch worker failed'));
    w.on('exit', (code) => {
      if (this.worker !== w) return; // ended on purpose (idle, stop)
      this.worker = undefined;
      if (this.stopped) return;
      this.restarting = true;
      this.log.warn({ code, restartInMs: this.restartMs }, 'DWD fetch worker ended; restarting');
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        this.reconcile(); // started again if there is still work; otherwise with the next work
      }, this.restartMs);
      this.restartTimer.unref();
      this.restartMs = Math.min(MAX_RESTART_MS, this.restartMs * 2);
    });
  }

  /** Ends the running thread on purpose: its exit is not a crash, nothing restarts it. */
  private end(): Promise<number | undefined> {
    const w = this.worker;
    this.worker = undefined;
    this.restarting = false;
    return w ? w.terminate() : Promise.resolve(undefined);
  }

  /** Ends the current worker thread the way a crash does (operations, tests): it is restarted with backoff. */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.idleTimer);
    await this.end();
  }
}
