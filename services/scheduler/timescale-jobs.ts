// The embedded TimescaleDB (PGlite) has no background workers, so its compression, retention and
// continuous-aggregate policies would never run. In embedded mode the scheduler runs each policy job itself
// when its schedule_interval has passed. [docs/architecture.md] On a TimescaleDB server its own workers do this.
import type { Logger } from 'pino';
import type { Db } from '../db/db.ts';
import type { Metrics } from '../metrics.ts';
import { type PeriodicJob, schedulePeriodic } from './cron.ts';

interface Job {
  job_id: number;
  proc_name: string;
  hypertable_name: string;
  interval_s: number;
}

export class TimescaleJobs {
  private lastRun = new Map<number, number>();
  private task?: PeriodicJob;

  constructor(
    private db: Db,
    private log: Logger,
    private now: () => number = Date.now,
    private metrics?: Metrics,
  ) {}

  /** Runs every policy job whose interval has passed since this process last ran it; returns what ran. */
  async runDue(): Promise<string[]> {
    const jobs = await this.db.query<Job>(
      `select job_id, proc_name, hypertable_name, extract(epoch from schedule_interval)::float8 as interval_s
       from timescaledb_information.jobs where job_id >= 1000 order by job_id`,
    );
    const ran: string[] = [];
    for (const j of jobs.rows) {
      const last = this.lastRun.get(j.job_id);
      if (last !== undefined && this.now() - last < j.interval_s * 1000) continue;
      const t0 = performance.now();
      try {
        await this.db.exec(`call run_job(${Number(j.job_id)})`);
        ran.push(`${j.proc_name}:${j.hypertable_name}`);
        this.metrics?.maintenanceSeconds.observe({ job: `${j.proc_name}:${j.hypertable_name}` }, (performance.now() - t0) / 1000);
        this.log.debug({ job: j.proc_name, table: j.hypertable_name, ms: Math.round(performance.now() - t0) }, 'timescale job ran');
      } catch (e) {
        this.log.warn({ job: j.proc_name, table: j.hypertable_name, err: (e as Error).message }, 'timescale job failed');
      }
      this.lastRun.set(j.job_id, this.now());
    }
    return ran;
  }

  start() {
    // every minute look for due jobs; the first pass waits a minute so start-up stays fast
    this.task = schedulePeriodic(
      '17 * * * * *',
      'timescale-jobs',
      () => this.runDue().catch((e) => this.log.warn({ err: (e as Error).message }, 'timescale jobs pass failed')),
      this.log,
    );
  }

  async stop() {
    await this.task?.stop();
  }
}
