import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPgDatabase, REQUIRE_EXTERNAL, TEST_DATABASE_URL } from '../../test/helpers/env.ts';
import type { Db } from '../db/db.ts';
import { createPgDb } from '../db/pg-driver.ts';
import { createMetrics } from '../metrics.ts';
import { ReadingsRetention } from './readings-retention.ts';

describe.runIf(REQUIRE_EXTERNAL || !!TEST_DATABASE_URL)('READINGS_RETENTION_DAYS on plain PostgreSQL', () => {
  let fresh: Awaited<ReturnType<typeof freshPgDatabase>>;
  let db: Db;
  beforeAll(async () => {
    fresh = await freshPgDatabase({ migrated: true });
    db = createPgDb(fresh!.url);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await fresh?.drop();
  });

  it('deletes every reading older than the retention, in batches, and keeps the newer ones of every series', async () => {
    // 40 gauges × 2 metrics, one reading an hour for 40 days: 25 old days and 15 recent days in every series
    await db.query(
      `insert into readings(time, device_id, metric, value)
       select date_trunc('hour', now()) - (h || ' hours')::interval, 'g' || d, m, h
       from generate_series(0, 40 * 24 - 1) h, generate_series(1, 40) d, unnest(array['level_cm', 'rain_mm']) m`,
    );
    const count = async (where: string) => Number((await db.query<{ n: number }>(`select count(*)::int as n from readings where ${where}`)).rows[0].n);
    const recentBefore = await count(`time >= now() - interval '15 days' + interval '1 hour'`);
    const metrics = createMetrics();
    // batches of 1000 rows: the 25 old days of 80 series (48 000 readings) take many of them
    const job = new ReadingsRetention(db, pino({ level: 'silent' }), 15, { metrics, batch: 1000 });
    const r = await job.runOnce();
    expect(r.deleted).toBeGreaterThanOrEqual(25 * 24 * 80 - 80);
    expect(r.batches).toBeGreaterThan(40);
    expect(await count(`time < now() - interval '15 days'`)).toBe(0);
    expect(await count(`time >= now() - interval '15 days' + interval '1 hour'`)).toBe(recentBefore);
    // every series keeps its recent readings
    expect(Number((await db.query<{ n: number }>(`select count(distinct (device_id, metric))::int as n from readings`)).rows[0].n)).toBe(80);
    expect((await metrics.readingsExpired.get()).values[0].value).toBe(r.deleted);
    // nothing left to do: the next run deletes nothing
    expect((await job.runOnce()).deleted).toBe(0);
  }, 120_000);

  it('bad setting values are refused with a clear message', async () => {
    const { loadConfig } = await import('../config.ts');
    expect(() => loadConfig({ READINGS_RETENTION_DAYS: '30d' })).toThrow(/READINGS_RETENTION_DAYS must be a whole number of days or off/);
    expect(() => loadConfig({ READINGS_RETENTION_DAYS: '0' })).toThrow(/between 1 and 36500/);
    expect(loadConfig({ READINGS_RETENTION_DAYS: '400' }).readingsRetentionDays).toBe(400);
    expect(loadConfig({ READINGS_RETENTION_DAYS: 'off' }).readingsRetentionDays).toBeUndefined();
    expect(loadConfig({}).readingsRetentionDays).toBeUndefined();
  });
});
