// Step 6: background jobs that depend on the store: TimescaleDB policies on the embedded store, and
// following configuration changes other processes make in a shared PostgreSQL.
import { startConfigSync } from '../config-sync.ts';
import type { AppContext } from '../context.ts';
import { TimescaleJobs } from '../scheduler/timescale-jobs.ts';
import type { Stops } from './stops.ts';

export function startJobs(ctx: AppContext, now: () => number, stops: Stops): void {
  const { config, db, log } = ctx;
  if (db.kind === 'pglite' && db.timescale && config.roles.has('scheduler')) {
    const jobs = new TimescaleJobs(db, log.child({ component: 'timescale-jobs' }), now);
    jobs.start();
    stops.push(() => jobs.stop());
  }
  // Only a shared PostgreSQL can be changed by another process; the embedded store belongs to this one.
  if (config.databaseUrl) {
    const sync = startConfigSync(ctx, log.child({ component: 'config-sync' }));
    stops.push(async () => sync.stop());
  }
}
