import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/db.ts';
import { migrate } from '../db/migrate.ts';
import { createPgliteDb } from '../db/pglite-driver.ts';
import { usableTemplate } from '../db/pglite-template.ts';
import { refreshSteps, TimescaleJobs } from './timescale-jobs.ts';
import { policyJobs } from './timescale-jobs-store.ts';

describe('TimescaleDB policy jobs in the embedded store', () => {
  let db: Db;
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-tsjobs-'));
    // a copy of the migrated template the build made (test/global-setup.ts remakes it when stale), not initdb
    db = await createPgliteDb(dir, { template: usableTemplate() });
    await migrate(db);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refreshes the 5-minute and hourly rollups, and runs each job again only after its interval', async () => {
    // 0.2 mm every minute for three whole hours that ended at least an hour ago (the hourly policy stops
    // one hour before now, the 5-minute one five minutes before now)
    await db.query(
      `insert into readings(time, device_id, metric, value) select date_trunc('hour', now()) - interval '1 hour' - (i || ' minutes')::interval, 'g1', 'rain_mm', 0.2 from generate_series(1, 180) i`,
    );
    let clock = Date.now();
    const jobs = new TimescaleJobs(db, pino({ level: 'silent' }), () => clock);
    const ran = await jobs.runDue();
    expect(ran).toEqual(
      expect.arrayContaining([
        'policy_refresh_continuous_aggregate:readings_5m',
        'policy_refresh_continuous_aggregate:readings_1h',
        'policy_compression:readings',
      ]),
    );
    const fiveMin = await db.query<{ n: number; total: number }>(
      `select count(*)::int as n, sum(sum)::float8 as total from readings_5m where device_id = 'g1'`,
    );
    expect(fiveMin.rows[0].n).toBe(36);
    expect(fiveMin.rows[0].total).toBeCloseTo(36, 6);
    const hourly = await db.query<{ n: number; total: number }>(`select count(*)::int as n, sum(sum)::float8 as total from readings_1h where device_id = 'g1'`);
    expect(hourly.rows[0].n).toBe(3);
    expect(hourly.rows[0].total).toBeCloseTo(36, 6);

    clock += 60_000;
    expect(await jobs.runDue()).toEqual([]); // nothing due a minute later
    clock += 5 * 60_000;
    expect(await jobs.runDue()).toContain('policy_refresh_continuous_aggregate:readings_5m');
  }, 60_000);

  it('runs a job again its interval after the previous run started, however long that run took', async () => {
    let clock = Date.now() + 24 * 3_600_000;
    let slow = false;
    // a 5-minute rollup run that takes three minutes
    const slowDb: Db = {
      ...db,
      exec: async (sql: string) => {
        await db.exec(sql);
        if (slow) clock += 3 * 60_000;
        slow = false;
      },
    };
    const jobs = new TimescaleJobs(slowDb, pino({ level: 'silent' }), () => clock);
    for (const j of await policyJobs(db)) if (j.hypertable_name !== 'readings_5m') jobs.markRan(j.job_id, clock);
    // a reading into an already materialised bucket, so the run has a bucket to refresh
    await db.query(`insert into readings(time, device_id, metric, value) values (now() - interval '20 minutes', 'slow1', 'rain_mm', 0.1)`);
    const t0 = clock;
    slow = true;
    expect(await jobs.runDue()).toEqual(['policy_refresh_continuous_aggregate:readings_5m']);
    expect(clock).toBe(t0 + 3 * 60_000);
    clock = t0 + 4 * 60_000;
    expect(await jobs.runDue()).toEqual([]);
    // five minutes after it started, not after it ended
    clock = t0 + 5 * 60_000;
    expect(await jobs.runDue()).toEqual(['policy_refresh_continuous_aggregate:readings_5m']);
  }, 60_000);

  it('takes a late reading into a 5-minute bucket it had already materialised at its next run', async () => {
    const bucketQ = `select sum(sum)::float8 as total, sum(n)::int as n from readings_5m
       where device_id = 'late1' and bucket = time_bucket(interval '5 minutes', now() - interval '30 minutes')`;
    await db.query(
      `insert into readings(time, device_id, metric, value) select time_bucket(interval '5 minutes', now() - interval '30 minutes') + (i || ' seconds')::interval, 'late1', 'rain_mm', 0.5 from generate_series(0, 240, 60) i`,
    );
    let clock = Date.now() + 48 * 3_600_000;
    const jobs = new TimescaleJobs(db, pino({ level: 'silent' }), () => clock);
    expect(await jobs.runDue()).toContain('policy_refresh_continuous_aggregate:readings_5m');
    const first = await db.query<{ total: number; n: number }>(bucketQ);
    expect(first.rows[0]).toEqual({ total: 2.5, n: 5 });
    // a device that was offline sends its buffer: a reading in that bucket, and one three hours back
    await db.query(
      `insert into readings(time, device_id, metric, value) values
         (time_bucket(interval '5 minutes', now() - interval '30 minutes') + interval '270 seconds', 'late1', 'rain_mm', 1.5),
         (now() - interval '3 hours', 'late1', 'rain_mm', 2)`,
    );
    clock += 5 * 60_000;
    expect(await jobs.runDue()).toContain('policy_refresh_continuous_aggregate:readings_5m');
    const second = await db.query<{ total: number; n: number }>(bucketQ);
    expect(second.rows[0]).toEqual({ total: 4, n: 6 });
    const all = await db.query<{ total: number }>(`select sum(sum)::float8 as total from readings_5m where device_id = 'late1'`);
    expect(all.rows[0].total).toBe(6);
  }, 60_000);
});

describe('the steps of a rollup refresh', () => {
  const m = 60e6; // a minute in TimescaleDB's microseconds
  it('refreshes the new buckets and the ones written into, one 5-minute bucket per step, within the window', () => {
    const steps = refreshSteps({
      view: 'public.readings_5m',
      bucket: 5 * m,
      start: 1000 * m + 30e6, // window from 1000.5 min: its first whole bucket starts at 1005
      end: 1502 * m, // to 1502: the last whole bucket ends at 1500
      threshold: 1485 * m,
      invalidated: [
        [1200 * m + 1, 1203 * m], // in bucket 1200
        [1201 * m, 1207 * m], // buckets 1200 and 1205: merged with the one above
        [900 * m, 1001 * m], // before the window
        [1499 * m, 1600 * m], // past the threshold anyway
      ],
    });
    expect(steps.map((s) => [(s.start as number) / m, s.end / m])).toEqual([
      [1200, 1205],
      [1205, 1210],
      [1485, 1490],
      [1490, 1495],
      [1495, 1500],
    ]);
  });
  it('refreshes from the beginning in one step when the policy has no start and the log reaches back to it', () => {
    const steps = refreshSteps({ view: 'public.readings_1h', bucket: 60 * m, start: null, end: 600 * m, threshold: 540 * m, invalidated: [[-9.2e18, 10 * m]] });
    expect(steps).toEqual([
      { start: null, end: 60 * m },
      { start: 540 * m, end: 600 * m },
    ]);
  });
});
