// Step 6: background jobs that depend on the store: TimescaleDB policies on the embedded store, and
// following configuration changes other processes make in a shared PostgreSQL.
import { startConfigSync } from '../config-sync.ts';
import type { AppContext } from '../context.ts';
import { ReadingsRetention } from '../scheduler/readings-retention.ts';
import { setTimescaleReadingsRetention } from '../scheduler/retention-store.ts';
import { TimescaleJobs } from '../scheduler/timescale-jobs.ts';
import type { Stops } from './stops.ts';

export async function startJobs(ctx: AppContext, now: () => number, stops: Stops): Promise<void> {
  const { config, db, log } = ctx;
  // READINGS_RETENTION_DAYS: a retention policy on TimescaleDB (its workers, or TimescaleJobs below, run it);
  // on plain PostgreSQL a job of our own deleting in batches
  if (config.roles.has('scheduler')) {
    if (db.timescale) {
      await setTimescaleReadingsRetention(db, config.readingsRetentionDays).then(
        (changed) => changed && log.info({ days: config.readingsRetentionDays ?? 'off' }, 'readings retention policy set'),
        (e) => log.warn({ err: (e as Error).message }, 'could not set the readings retention policy (READINGS_RETENTION_DAYS)'),
      );
    } else if (config.readingsRetentionDays !== undefined) {
      const retention = new ReadingsRetention(db, log.child({ component: 'readings-retention' }), config.readingsRetentionDays, {
        metrics: ctx.metrics,
        now,
        isLeader: () => ctx.schedulerLeader?.() ?? true,
      });
      retention.start();
      stops.push(() => retention.stop());
    }
  }
  if (db.kind === 'pglite' && db.timescale && config.roles.has('scheduler')) {
    const jobs = new TimescaleJobs(db, log.child({ component: 'timescale-jobs' }), now, ctx.metrics);
    jobs.start();
    stops.push(() => jobs.stop());
  }
  // Only a shared PostgreSQL can be changed by another process; the embedded store belongs to this one.
  if (config.databaseUrl) {
    const sync = startConfigSync(ctx, log.child({ component: 'config-sync' }));
    stops.push(async () => sync.stop());
  }
}
