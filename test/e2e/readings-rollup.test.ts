// [docs/api.md GET /api/v1/devices/{id}/readings] On the embedded store (PGlite with TimescaleDB) a bucket of
// whole hours is answered from the hourly rollup readings_1h: the same numbers as from the raw readings, with
// the same quality filter (spikes out, clock-skewed readings in), the newest, not yet materialised hour and
// the partial hours at both ends of an unaligned [from, to) included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketedReadings } from '../../services/devices/readings.ts';
import { startSystem, type TestSystem } from '../helpers/system.ts';

const HOUR = 3_600_000;
let s: TestSystem;
const hourNow = Math.floor(Date.now() / HOUR) * HOUR;
const from = new Date(hourNow - 3 * 24 * HOUR + 17 * 60_000); // not on an hour
const to = new Date(Date.now() + 60_000);

beforeAll(async () => {
  s = await startSystem({ store: 'pglite' });
  await s.ok('POST', '/api/v1/devices', { id: 'pegel-1', name: 'Pegel 1', model: 'generic' });
  // 4 days of 5-minute readings up to the start of this hour: every 7th a spike (not evaluated), every 11th
  // clock-skewed (evaluated)
  await s.ctx.db.query(
    `insert into readings(device_id, metric, time, value, quality)
     select 'pegel-1', 'level_cm', $1::timestamptz - (i * interval '5 minutes'), 100 + 30 * sin(i / 9.0) + (i % 13) * 0.37,
            case when i % 7 = 0 then 4 when i % 11 = 0 then 16 else 0 end
     from generate_series(1, 4 * 288) as i`,
    [new Date(hourNow)],
  );
  await s.ctx.db.exec(`call refresh_continuous_aggregate('readings_1h', null, date_trunc('hour', now()))`);
  // readings of this hour after the refresh: not materialised, only real-time aggregation sees them
  const fresh = Array.from({ length: 6 }, (_, k) => [new Date(hourNow + k * 60_000), 140 + k * 1.5, k === 2 ? 4 : k === 4 ? 16 : 0] as const);
  for (const [t, v, q] of fresh) {
    await s.ctx.db.query(`insert into readings(device_id, metric, time, value, quality) values ('pegel-1', 'level_cm', $1, $2, $3)`, [t, v, q]);
  }
}, 180_000);
afterAll(() => s?.close());

const round = (v: number) => Math.round(v * 1e9) / 1e9;

// Off: the rollup path gave different sums from the raw path in a run just after the top of the hour (15:03 UTC);
// the API answers from raw readings until the cause is found (services/devices/readings.ts, issue 17).
describe.skip('bucketed readings from the hourly rollup', () => {
  it("include this hour's readings, stored after the rollup was refreshed", async () => {
    const m = await s.ctx.db.query<{ newest: Date }>(`select max(bucket) as newest from readings_1h where device_id = 'pegel-1'`);
    expect(new Date(m.rows[0].newest).getTime()).toBe(hourNow); // the view, real-time: this hour included
    const raw = await s.ctx.db.query<{ n: number }>(
      `select count(*)::int as n from readings where device_id = 'pegel-1' and time >= $1 and (quality & 15) = 0`,
      [new Date(hourNow)],
    );
    expect(raw.rows[0].n).toBe(5);
  });

  for (const bucket of ['1h', '3h', '1d'] as const) {
    it.each(['avg', 'sum', 'min', 'max', 'last'] as const)(`bucket=${bucket}&agg=%s equals the raw answer`, async (agg) => {
      const q = `/api/v1/devices/pegel-1/readings?metric=level_cm&bucket=${bucket}&agg=${agg}&limit=100000&from=${from.toISOString()}&to=${to.toISOString()}`;
      const api = (await s.ok('GET', q)).points as { time: string; value: number }[];
      const ms = { '1h': HOUR, '3h': 3 * HOUR, '1d': 24 * HOUR }[bucket];
      const raw = await bucketedReadings(s.ctx.db, 'pegel-1', 'level_cm', from, to, ms, agg, 100_000, { rollup: false });
      expect(api.map((p) => ({ time: p.time, value: round(p.value) }))).toEqual(raw.map((p) => ({ time: p.time.toISOString(), value: round(p.value) })));
      expect(api.length).toBeGreaterThan(3);
      if (bucket === '1h') {
        expect(api.at(-1)?.time).toBe(new Date(hourNow).toISOString());
        const fresh = [140, 141.5, 144.5, 146, 147.5]; // the spike (143) left out, the clock-skewed 146 counted
        const want = { avg: fresh.reduce((a, b) => a + b) / 5, sum: fresh.reduce((a, b) => a + b), min: 140, max: 147.5, last: 147.5 }[agg];
        expect(round(api.at(-1)?.value as number)).toBe(round(want));
      }
    });
  }
});
