// A small pool of worker threads that run uploaded codecs in QuickJS/WebAssembly (sandbox-worker.js).
// Nothing of the codec runs on the main thread: the worker enforces memory, stack and an interrupt deadline
// inside QuickJS; this side adds a wall-clock watchdog that terminates a worker whose call does not come
// back (built-ins that never check the interrupt) and replaces it. Only strings cross the boundary.
// Why QuickJS in workers and not node:vm (in or out of workers): docs/security.md#codec-sandbox.
import fs from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

export interface SandboxLimits {
  /** interrupt deadline per call inside QuickJS (wall clock of the worker thread) */
  cpuMs: number;
  /** QuickJS heap per call */
  memoryBytes: number;
  stackBytes: number;
  maxOutputChars: number;
  /** the worker's WebAssembly memory cap (QuickJS heap plus allocator slack) */
  wasmMaxBytes: number;
  /** a call that has used this much CPU without answering is ended by terminating its worker */
  watchdogMs: number;
  /** …and one that has not answered after this long in any case (a stalled thread, no CPU clock) */
  watchdogWallMs: number;
  workers: number;
  /** calls handed to one worker ahead, so it never waits for the main thread between calls */
  depth: number;
  /** calls waiting beyond this are refused at once (`codec_timeout`), so a flood cannot grow memory */
  maxQueued: number;
  /** a codec whose calls hit the time or memory limit this many times in a row… */
  suspendAfter: number;
  /** …is not run for this long: its calls fail at once, and the workers stay free for the others */
  suspendMs: number;
}

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  cpuMs: 50,
  memoryBytes: 32 * 1024 * 1024,
  stackBytes: 256 * 1024,
  maxOutputChars: 64 * 1024,
  wasmMaxBytes: 64 * 1024 * 1024,
  watchdogMs: 250,
  watchdogWallMs: 10_000,
  workers: Math.max(1, Math.min(2, os.availableParallelism())),
  depth: 4,
  maxQueued: 10_000,
  suspendAfter: 5,
  suspendMs: 30_000,
});

export type SandboxFailure = { ok: false; reason: 'codec_timeout' | 'codec_memory' | 'codec_error'; message: string };
export type SandboxResult = { ok: true; json: string } | SandboxFailure;

interface Job {
  id: number;
  source: string;
  /** names the source, so a worker reuses the context it prepared for it */
  key: number;
  /** which optional built-ins the context needs (bit 0 typed arrays, bit 1 Map/Set, bit 2 Proxy) */
  features: number;
  /** JSON of the decodeUplink input; absent = only load the codec and check that it defines decodeUplink */
  input?: string;
  done: (r: SandboxResult) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  inflight: Job[];
  /** when the call at the head of `inflight` started */
  since: number;
  /** the worker thread's CPU clock (/proc/<pid>/task/<tid>/schedstat), when the kernel has one */
  cpuFd?: number;
  /** the head call the watchdog is timing, the CPU clock at its last look and the CPU the call used so far */
  watched?: { id: number; cpuAt: number; used: number };
  /** set when the worker hit a V8 heap limit of its own */
  oom: boolean;
  gone: boolean;
}

type Reply = { ready: true; thread?: string } | { id: number; json?: string; reason?: SandboxFailure['reason']; message?: string; fatal?: boolean };

const TYPED_ARRAYS = /\b(ArrayBuffer|SharedArrayBuffer|DataView|Atomics|(Ui|I)nt(8|16|32)Array|Uint8ClampedArray|Float(32|64)Array|Big(Ui|I)nt64Array)\b/;
const MAP_SET = /\b(Map|Set|WeakMap|WeakSet|WeakRef|FinalizationRegistry)\b/;
const WORKER_URL = new URL('./sandbox-worker.js', import.meta.url);

export class CodecSandbox {
  readonly limits: Readonly<SandboxLimits>;
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private seq = 0;
  private watchdog?: NodeJS.Timeout;
  private closed = false;
  /** workers terminated by the watchdog or lost otherwise, for metrics and tests */
  replaced = 0;

  constructor(
    limits: Partial<SandboxLimits> = {},
    private log?: Logger,
  ) {
    this.limits = Object.freeze({ ...DEFAULT_LIMITS, ...limits });
  }

  /** Run `decodeUplink(JSON.parse(input))` of `source`; resolves, never rejects. */
  run(source: string, input?: string): Promise<SandboxResult> {
    if (this.closed) return Promise.resolve(failure('codec_error', 'codec sandbox is shut down'));
    const strikes = this.strikes.get(source);
    if (strikes?.until && strikes.until > Date.now()) {
      const secs = Math.ceil((strikes.until - Date.now()) / 1000);
      return Promise.resolve(
        failure(strikes.reason, `codec suspended for ${secs} s more: its last ${this.limits.suspendAfter} calls in a row ran out of time or memory`),
      );
    }
    if (this.queue.length >= this.limits.maxQueued)
      return Promise.resolve(failure('codec_timeout', `codec sandbox overloaded: ${this.queue.length} decodes waiting`));
    return new Promise((resolve) => {
      const done = (r: SandboxResult) => {
        this.count(source, r);
        resolve(r);
      };
      this.queue.push({ id: ++this.seq, source, ...this.describe(source), input, done });
      this.pump();
    });
  }

  /** consecutive limit failures per codec source (bounded), and until when a codec is suspended */
  private strikes = new Map<string, { n: number; reason: SandboxFailure['reason']; until?: number }>();

  private count(source: string, r: SandboxResult) {
    if (r.ok || r.reason === 'codec_error' || r.message.startsWith('codec sandbox')) {
      this.strikes.delete(source);
      return;
    }
    const s = this.strikes.get(source) ?? { n: 0, reason: r.reason };
    s.n++;
    s.reason = r.reason;
    if (s.n >= this.limits.suspendAfter) {
      s.n = 0;
      s.until = Date.now() + this.limits.suspendMs;
      this.log?.warn({ reason: r.reason, suspendMs: this.limits.suspendMs }, 'codec suspended after repeated limit failures');
    }
    if (!this.strikes.has(source) && this.strikes.size >= 256) this.strikes.delete(this.strikes.keys().next().value as string);
    this.strikes.set(source, s);
  }

  /** Load the codec and check that it defines decodeUplink, under the same limits. */
  check(source: string): Promise<SandboxResult> {
    return this.run(source);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    for (const j of this.queue.splice(0)) j.done(failure('codec_error', 'codec sandbox is shut down'));
    await Promise.all(
      this.slots.splice(0).map((s) => {
        s.gone = true;
        closeFd(s);
        for (const j of s.inflight.splice(0)) j.done(failure('codec_error', 'codec sandbox is shut down'));
        return s.worker.terminate();
      }),
    );
  }

  /** a worker has come up before, and how many replacements in a row did not */
  private startedOnce = false;
  private failedStarts = 0;

  private sources = new Map<string, { key: number; features: number }>();
  private nextKey = 0;

  /**
   * A key per distinct source (workers keep a prepared context per key) and the optional built-ins it names;
   * one reached only by a computed name (`globalThis['Data' + 'View']`) is absent.
   */
  private describe(source: string): { key: number; features: number } {
    let d = this.sources.get(source);
    if (!d) {
      const features = (TYPED_ARRAYS.test(source) ? 1 : 0) | (MAP_SET.test(source) ? 2 : 0) | (/\bProxy\b/.test(source) ? 4 : 0);
      d = { key: ++this.nextKey, features };
      if (this.sources.size >= 256) this.sources.delete(this.sources.keys().next().value as string);
      this.sources.set(source, d);
    }
    return d;
  }

  private pump() {
    while (this.queue.length) {
      let best: Slot | undefined;
      for (const s of this.slots) if (s.ready && s.inflight.length < this.limits.depth && (!best || s.inflight.length < best.inflight.length)) best = s;
      if (!best) {
        if (this.slots.length < this.limits.workers) this.spawn();
        return;
      }
      const job = this.queue.shift()!;
      if (best.inflight.length === 0) {
        best.since = performance.now();
        best.worker.ref();
        this.armWatchdog();
      }
      best.inflight.push(job);
      best.worker.postMessage({ id: job.id, key: job.key, source: job.source, features: job.features, input: job.input });
    }
  }

  private spawn() {
    const l = this.limits;
    const worker = new Worker(WORKER_URL, {
      workerData: { memoryBytes: l.memoryBytes, stackBytes: l.stackBytes, cpuMs: l.cpuMs, maxOutputChars: l.maxOutputChars, wasmMaxBytes: l.wasmMaxBytes },
      // The worker's own V8 heap holds only the glue; QuickJS lives in WebAssembly memory (capped above).
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      // No loader hooks or flags of the parent (tsx, inspector): the worker file is plain JavaScript.
      execArgv: [],
      env: {},
      stdout: false,
      stderr: false,
    });
    worker.unref();
    const slot: Slot = { worker, ready: false, inflight: [], since: 0, oom: false, gone: false };
    this.slots.push(slot);
    worker.on('message', (m: Reply) => this.onReply(slot, m));
    worker.on('error', (e: Error & { code?: string }) => {
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') slot.oom = true;
      else this.log?.warn({ err: e.message }, 'codec sandbox worker failed');
    });
    worker.on('exit', () => this.onExit(slot));
  }

  private armWatchdog() {
    if (this.watchdog) return;
    this.watchdog = setInterval(() => this.checkDeadlines(), Math.max(5, Math.floor(this.limits.watchdogMs / 10)));
    this.watchdog.unref();
  }

  private onReply(slot: Slot, m: Reply) {
    if ('ready' in m) {
      slot.ready = true;
      this.startedOnce = true;
      this.failedStarts = 0;
      if (m.thread && /^\d+\/task\/\d+$/.test(m.thread)) {
        try {
          slot.cpuFd = fs.openSync(`/proc/${m.thread}/schedstat`, 'r');
        } catch {}
      }
      this.pump();
      return;
    }
    const job = slot.inflight.shift();
    if (!job || job.id !== m.id) return; // cannot happen: replies come in order
    if (slot.inflight.length) slot.since = performance.now();
    else slot.worker.unref();
    job.done(m.json !== undefined ? { ok: true, json: m.json } : failure(m.reason ?? 'codec_error', m.message ?? 'codec failed'));
    if (m.fatal) this.retire(slot, 'its WebAssembly instance failed');
    this.pump();
  }

  /**
   * Ends calls that neither answer nor get interrupted inside QuickJS. Counted in the worker's CPU time where
   * the kernel tells it, so a busy machine does not cost a slow but honest codec its worker; a call is timed
   * from the watchdog's first look at it, so it may run up to one interval more.
   */
  private checkDeadlines() {
    const now = performance.now();
    const { watchdogMs, watchdogWallMs, cpuMs } = this.limits;
    for (const s of this.slots) {
      const head = s.inflight[0];
      if (!head) continue;
      const wall = now - s.since;
      let over = wall > watchdogWallMs;
      const cpu = s.cpuFd === undefined ? undefined : readCpuMs(s.cpuFd);
      if (cpu === undefined) over ||= wall > watchdogMs;
      else if (s.watched?.id !== head.id) s.watched = { id: head.id, cpuAt: cpu, used: 0 };
      else {
        s.watched.used += cpu - s.watched.cpuAt;
        s.watched.cpuAt = cpu;
        over ||= s.watched.used > watchdogMs;
      }
      if (over) {
        s.inflight.shift();
        head.done(failure('codec_timeout', `codec ran longer than ${cpuMs} ms (its worker was stopped)`));
        this.retire(s, `a call ran past the ${watchdogMs} ms watchdog`);
      }
    }
    if (!this.slots.some((s) => s.inflight.length)) {
      clearInterval(this.watchdog);
      this.watchdog = undefined;
    }
    this.pump();
  }

  /** Terminate a worker; calls queued behind the one that failed go back to the front of the queue. */
  private retire(slot: Slot, why: string) {
    if (slot.gone) return;
    slot.gone = true;
    this.replaced++;
    this.slots = this.slots.filter((s) => s !== slot);
    this.queue.unshift(...slot.inflight.splice(0));
    this.log?.warn({ why }, 'codec sandbox worker terminated and replaced');
    closeFd(slot);
    void slot.worker.terminate();
  }

  private onExit(slot: Slot) {
    if (slot.gone) return;
    slot.gone = true;
    closeFd(slot);
    this.slots = this.slots.filter((s) => s !== slot);
    const head = slot.inflight.shift();
    if (head) {
      this.replaced++;
      head.done(slot.oom ? failure('codec_memory', 'codec exceeded the sandbox memory') : failure('codec_error', 'codec sandbox worker stopped'));
      this.queue.unshift(...slot.inflight.splice(0));
    }
    if (!slot.ready) {
      // A replacement that did not come up after others had (a busy or short-of-memory moment): try again, a few
      // times in a row at most.
      if (this.startedOnce && ++this.failedStarts <= 3) {
        this.log?.warn({ attempt: this.failedStarts }, 'codec sandbox worker did not start; starting another');
        this.pump();
        return;
      }
      // It never started (missing file, broken install): fail what waits rather than respawning forever.
      this.log?.error('codec sandbox worker did not start');
      for (const j of this.queue.splice(0)) j.done(failure('codec_error', 'codec sandbox could not start'));
      return;
    }
    this.pump();
  }
}

const cpuBuf = Buffer.alloc(96);
/** CPU time of a thread in ms from its schedstat file (first field, in ns) */
function readCpuMs(fd: number): number | undefined {
  try {
    const n = fs.readSync(fd, cpuBuf, 0, cpuBuf.length, 0);
    const text = cpuBuf.toString('latin1', 0, n);
    const ns = Number(text.slice(0, text.indexOf(' ')));
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

function closeFd(slot: Slot) {
  if (slot.cpuFd === undefined) return;
  try {
    fs.closeSync(slot.cpuFd);
  } catch {}
  slot.cpuFd = undefined;
}

const failure = (reason: SandboxFailure['reason'], message: string): SandboxFailure => ({ ok: false, reason, message });
