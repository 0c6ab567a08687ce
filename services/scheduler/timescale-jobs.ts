// The embedded TimescaleDB (PGlite) has no background workers, so its compression, retention and
// continuous-aggregate policies would never run. In embedded mode the scheduler runs each policy job itself
// when its schedule_interval has passed since its previous run started. [docs/architecture.md] On a
// TimescaleDB server its own workers do this.
//
// PGlite runs on the event loop, so one long statement stalls ingest and alarms for as long as it runs. A
// rollup refresh policy is therefore not run as one `run_job`: it refreshes what the policy would (the buckets
// of its window that are new since the last refresh or were written into since, from TimescaleDB's
// invalidation logs), one bucket per statement, yielding to the event loop between them. What is materialised
// is the same; the longest stall is one bucket's worth of readings instead of the whole run's.
import { setImmediate as setImmediatePromise, setTimeout as setTimeoutPromise } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Db } from '../db/db.ts';
import type { Metrics } from '../metrics.ts';
import { policyJobs, type RefreshPlan, refreshContinuousAggregate, refreshPlan, runJob } from './timescale-jobs-store.ts';

/** How often the runner looks for due jobs: a job runs at most this late. */
export const CHECK_EVERY_MS = 10_000;
/** The first look waits this long after start, so start-up stays fast. */
const FIRST_CHECK_AFTER_MS = 60_000;
/** A stretch to refresh longer than this many buckets is refreshed in one statement (as the policy would). */
const MAX_SLICES = 2_000;

export interface RefreshStep {
  start: number | null;
  end: number;
}

/**
 * The refresh statements for a plan: the buckets of the policy's window (inscribed, as TimescaleDB aligns it)
 * that are past the invalidation threshold or touched by an invalidation-log entry, merged into stretches and
 * cut into one-bucket steps (microseconds since 1970). A stretch without a start (a policy without
 * start_offset, an entry from the beginning of time) or longer than MAX_SLICES buckets is one step.
 */
export function refreshSteps(p: RefreshPlan): RefreshStep[] {
  const b = p.bucket;
  const lo = p.start === null ? Number.NEGATIVE_INFINITY : Math.ceil(p.start / b) * b;
  const hi = Math.floor(p.end / b) * b;
  if (!(hi > lo)) return [];
  const ranges: Array<[number, number]> = [];
  const add = (s: number, e: number) => {
    const a = Math.max(lo, s);
    const z = Math.min(hi, e);
    if (z > a) ranges.push([a, z]);
  };
  add(Number.isFinite(p.threshold) ? Math.floor(p.threshold / b) * b : lo, hi);
  // an entry [l, g] (inclusive) touches every bucket from l's to g's; entries at TimescaleDB's ends of time are
  // the beginning or end of time here
  const edge = 9e18;
  for (const [l, g] of p.invalidated)
    add(l <= -edge ? Number.NEGATIVE_INFINITY : Math.floor(l / b) * b, g >= edge ? Number.POSITIVE_INFINITY : (Math.floor(g / b) + 1) * b);
  ranges.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const [s, e] of ranges) {
    const last = merged[merged.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  const steps: RefreshStep[] = [];
  for (const [s, e] of merged) {
    if (!Number.isFinite(s) || (e - s) / b > MAX_SLICES) steps.push({ start: Number.isFinite(s) ? s : null, end: e });
    else for (let t = s; t < e; t += b) steps.push({ start: t, end: t + b });
  }
  return steps;
}

/** Lets timers (alarm timeouts, the broker's keep-alives) and then network I/O (ingest) run: a timeout resumes
 *  in the timers phase, an immediate after the poll phase. node:timers' own functions: the embedded engine's
 *  runtime may replace the global ones. */
const yieldToEventLoop = async () => {
  await setTimeoutPromise(0);
  await setImmediatePromise();
};

export class TimescaleJobs {
  private lastStart = new Map<number, number>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    private db: Db,
    private log: Logger,
    private now: () => number = Date.now,
    private metrics?: Metrics,
  ) {}

  /** Runs every policy job whose interval has passed since this process last started it; returns what ran. */
  async runDue(): Promise<string[]> {
    const ran: string[] = [];
    for (const j of await policyJobs(this.db)) {
      const startedAt = this.now();
      const last = this.lastStart.get(j.job_id);
      if (last !== undefined && startedAt - last < j.interval_s * 1000) continue;
      // due again `interval` after this start, however long the run takes
      this.lastStart.set(j.job_id, startedAt);
      const name = `${j.proc_name}:${j.hypertable_name}`;
      const t0 = performance.now();
      try {
        const steps = await this.run(j.job_id, j.proc_name);
        ran.push(name);
        this.metrics?.maintenanceSeconds.observe({ job: name }, (performance.now() - t0) / 1000);
        this.log.debug({ job: j.proc_name, table: j.hypertable_name, ms: Math.round(performance.now() - t0), ...steps }, 'timescale job ran');
      } catch (e) {
        this.log.warn({ job: j.proc_name, table: j.hypertable_name, err: (e as Error).message }, 'timescale job failed');
      }
    }
    return ran;
  }

  /** Counts job `jobId` as started at `t` (benchmarks: only the job under test is due). */
  markRan(jobId: number, t: number) {
    this.lastStart.set(jobId, t);
  }

  private async run(jobId: number, proc: string): Promise<{ steps?: number; longest_step_ms?: number }> {
    const plan = proc === 'policy_refresh_continuous_aggregate' ? await refreshPlan(this.db, jobId) : undefined;
    if (!plan) {
      await runJob(this.db, jobId);
      return {};
    }
    const steps = refreshSteps(plan);
    let longest = 0;
    for (const s of steps) {
      await yieldToEventLoop();
      // stopping leaves the rest in the invalidation logs for the next run
      if (this.stopped) break;
      const t = performance.now();
      await refreshContinuousAggregate(this.db, plan.view, s.start, s.end);
      longest = Math.max(longest, performance.now() - t);
    }
    return { steps: steps.length, longest_step_ms: Math.round(longest) };
  }

  start() {
    const startedAt = this.now();
    const pass = () => {
      this.timer = undefined;
      if (this.stopped) return;
      const run = this.now() - startedAt < FIRST_CHECK_AFTER_MS ? Promise.resolve() : this.runDue();
      this.running = run
        .catch((e) => this.log.warn({ err: (e as Error).message }, 'timescale jobs pass failed'))
        .finally(() => {
          this.running = undefined;
          // the next look CHECK_EVERY_MS after this one ended: passes never overlap
          if (!this.stopped) this.timer = setTimeout(pass, CHECK_EVERY_MS).unref();
        });
    };
    this.timer = setTimeout(pass, CHECK_EVERY_MS).unref();
  }

  async stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
