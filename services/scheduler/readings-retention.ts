// READINGS_RETENTION_DAYS on plain PostgreSQL, where no TimescaleDB retention policy exists: every 10 minutes
// the scheduler leader deletes readings older than the retention in batches of a few thousand rows, each batch
// its own short statement with a pause after it, so ingest's inserts never wait behind a long delete.
// [README.md Configuration]
import type { Logger } from 'pino';
import type { Db } from '../db/db.ts';
import type { Metrics } from '../metrics.ts';
import { type PeriodicJob, schedulePeriodic } from './cron.ts';
import { deleteExpiredReadings, type RetentionCursor } from './retention-store.ts';

const BATCH = 5000;
const PAUSE_MS = 25;

export class ReadingsRetention {
  private task?: PeriodicJob;
  private stopped = false;

  constructor(
    private db: Db,
    private log: Logger,
    private days: number,
    private o: { metrics?: Metrics; now?: () => number; isLeader?: () => boolean; batch?: number } = {},
  ) {}

  /** Deletes every reading older than the retention, batch by batch; what it did. */
  async runOnce(): Promise<{ deleted: number; batches: number; ms: number }> {
    const t0 = performance.now();
    const cutoff = new Date((this.o.now ?? Date.now)() - this.days * 86_400_000);
    const limit = this.o.batch ?? BATCH;
    let deleted = 0;
    let batches = 0;
    let cursor: RetentionCursor | undefined;
    for (;;) {
      const b = await deleteExpiredReadings(this.db, cutoff, cursor, limit);
      batches++;
      deleted += b.deleted;
      this.o.metrics?.readingsExpired.inc(b.deleted);
      if (b.deleted < limit || this.stopped) break;
      cursor = b.next;
      await new Promise((r) => setTimeout(r, PAUSE_MS));
    }
    const ms = Math.round(performance.now() - t0);
    this.o.metrics?.maintenanceSeconds.observe({ job: 'readings_retention' }, ms / 1000);
    if (deleted) this.log.info({ deleted, batches, ms, older_than: cutoff.toISOString() }, 'expired readings deleted');
    return { deleted, batches, ms };
  }

  start() {
    this.task = schedulePeriodic('41 */10 * * * *', 'readings-retention', () => ((this.o.isLeader?.() ?? true) ? this.runOnce() : undefined), this.log);
  }

  async stop() {
    this.stopped = true;
    await this.task?.stop();
  }
}
