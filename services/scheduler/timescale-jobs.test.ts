import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/db.ts';
import { migrate } from '../db/migrate.ts';
import { createPgliteDb } from '../db/pglite-driver.ts';
import { usableTemplate } from '../db/pglite-template.ts';
import { TimescaleJobs } from './timescale-jobs.ts';

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
});
