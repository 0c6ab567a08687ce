import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPgDatabase } from '../../test/helpers/env.ts';
import type { Db } from '../db/db.ts';
import { createPgDb } from '../db/pg-driver.ts';
import { createMetrics } from '../metrics.ts';
import { BatchWriter, pgArray } from './writer.ts';

// The batch statement's arrays go to PostgreSQL as literals the writer builds itself: whatever a device id,
// a metric or a gateway name holds, it is stored as sent.
const ids = ['plain', 'with "quotes"', 'back\\slash', 'a,b', '{braces}', ' spaced ', 'NULL', '', 'ümlaut-Pegel', "it's", '\\"'];

describe.skipIf(!process.env.TEST_DATABASE_URL)('BatchWriter on PostgreSQL', () => {
  let db: Db;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const d = await freshPgDatabase({ migrated: true });
    if (!d) throw new Error('no database');
    drop = d.drop;
    db = createPgDb(d.url, { max: 2 });
    await db.query(`insert into devices(id, name, model) select id, id, 'generic' from unnest($1::text[]) as u(id)`, [ids]);
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it('stores readings and uplinks of devices whose ids hold quotes, backslashes, commas, braces or NULL exactly under those ids', async () => {
    const w = new BatchWriter(db, pino({ level: 'silent' }), createMetrics());
    const time = Date.UTC(2026, 10, 30, 12, 0, 0);
    const values = [1.5, -0.5, 1e21, 1e-7, 123456789.125, 42, -3.25, 0.1, 7, 8, 9];
    const stored = await Promise.all(
      ids.map((deviceId, i) =>
        w.write({
          readings: [{ deviceId, metric: 'level_cm', time: time + i, value: values[i], quality: 0 }],
          uplink: { time: time + i, deviceId, source: 'chirpstack', fCnt: i, rssi: i % 2 ? -100.5 : undefined, gateways: [{ id: `gw "${i}" \\` }] },
          rejections: [],
        }),
      ),
    );
    expect(stored.map((r) => r.length)).toEqual(ids.map(() => 1));
    const rows = await db.query<{ device_id: string; value: number; ms: number }>(
      `select device_id, value, (extract(epoch from time) * 1000)::float8 as ms from readings order by time`,
    );
    expect(rows.rows.map((r) => [r.device_id, r.value, r.ms])).toEqual(ids.map((id, i) => [id, values[i], time + i]));
    const ups = await db.query<{ device_id: string; f_cnt: string; rssi: number | null; gw: string }>(
      `select device_id, f_cnt, rssi, gateways->0->>'id' as gw from uplinks order by time`,
    );
    expect(ups.rows.map((u) => [u.device_id, Number(u.f_cnt), u.rssi, u.gw])).toEqual(ids.map((id, i) => [id, i, i % 2 ? -100.5 : null, `gw "${i}" \\`]));
    await w.close();
  });

  it('builds the array literal PostgreSQL reads back as the same values', async () => {
    const text = ['x', 'a"b', 'c\\d', 'NULL', '', ',', '}{'];
    const r = await db.query<{ t: string[]; n: number[] }>('select $1::text[] as t, $2::float8[] as n', [
      pgArray([...text, null]),
      pgArray([1, -2.5, null, 1e300]),
    ]);
    expect(r.rows[0].t).toEqual([...text, null]);
    expect(r.rows[0].n).toEqual([1, -2.5, null, 1e300]);
  });
});
