// [docs/api.md GET /api/v1/devices/{id}/readings] Buckets on both stores: evaluated readings only (a spike
// left out, a clock-skewed reading counted), each bucket's avg/sum/min/max/last as a user would compute them
// from the readings, `to` exclusive, the documented response shape. Times are placed relative to one whole
// hour T a day before the run, so the answer does not depend on when the test runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { series } from '../../services/api/routes/readings.ts';
import { REQUIRE_EXTERNAL, TEST_DATABASE_URL } from '../helpers/env.ts';
import { startSystem, type TestSystem } from '../helpers/system.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
const T = Math.floor(Date.now() / HOUR) * HOUR - 24 * HOUR;
// [minutes after T - 2 h, value, quality]
const READINGS: [number, number, number][] = [
  [0, 10.1, 0],
  [5, 10.2, 0],
  [20, 99, 4], // spike: stored, not evaluated
  [59, 10.4, 16], // clock-skewed: evaluated
  [60, 0.1, 0],
  [61, 0.2, 0],
  [119, 7, 0],
  [120, 3.5, 0], // at T: outside a `to` of T
];
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

for (const store of ['pglite', 'pg'] as const) {
  describe.skipIf(store === 'pg' && !TEST_DATABASE_URL && !REQUIRE_EXTERNAL)(`bucketed readings (${store})`, () => {
    let s: TestSystem;
    beforeAll(async () => {
      s = await startSystem({ store, env: { ROLES: 'api', MQTT_PORT: 'off' } });
      await s.ok('POST', '/api/v1/devices', { id: 'g1', name: 'G 1', model: 'generic' });
      for (const [m, v, q] of READINGS)
        await s.ctx.db.query(`insert into readings(device_id, metric, time, value, quality) values ('g1', 'level_cm', $1, $2, $3)`, [
          new Date(T - 2 * HOUR + m * MIN),
          v,
          q,
        ]);
      if (s.ctx.db.timescale) await s.ctx.db.exec(`call refresh_continuous_aggregate('readings_1h', null, '${new Date(T - HOUR).toISOString()}'::timestamptz)`);
    }, 180_000);
    afterAll(() => s?.close());

    const hours = [
      [10.1, 10.2, 10.4],
      [0.1, 0.2, 7],
    ];
    const want = {
      avg: (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length,
      sum: (xs: number[]) => xs.reduce((a, b) => a + b),
      min: (xs: number[]) => Math.min(...xs),
      max: (xs: number[]) => Math.max(...xs),
      last: (xs: number[]) => xs[xs.length - 1],
    };
    it.each(Object.keys(want) as (keyof typeof want)[])('bucket=1h and 1d, agg=%s', async (agg) => {
      const q = (bucket: string, from: number, to: number) =>
        `/api/v1/devices/g1/readings?metric=level_cm&bucket=${bucket}&agg=${agg}&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
      const r = await fetch(`${s.httpUrl}${q('1h', T - 3 * HOUR + 30 * MIN, T)}`, { headers: { authorization: `Bearer ${s.token}` } });
      const text = await r.text();
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      const body = JSON.parse(text);
      expect(text).toBe(JSON.stringify(series.parse(body))); // the documented shape, as the schema writes it
      expect(body.deviceId).toBe('g1');
      expect(body.unit).toBe('cm');
      expect(body.points.map((p: { time: string }) => p.time)).toEqual([new Date(T - 2 * HOUR).toISOString(), new Date(T - HOUR).toISOString()]);
      body.points.forEach((p: { value: number }, i: number) => expect(close(p.value, want[agg](hours[i]))).toBe(true));
      // day buckets start at midnight UTC on both stores
      const DAY = 24 * HOUR;
      const days = new Map<number, number[]>();
      [T - 2 * HOUR, T - HOUR].forEach((h, i) => {
        const d = Math.floor(h / DAY) * DAY;
        days.set(d, [...(days.get(d) ?? []), ...hours[i]]);
      });
      const day = await s.ok('GET', q('1d', T - 2 * HOUR, T));
      expect(day.points.map((p: { time: string }) => p.time)).toEqual([...days.keys()].map((d) => new Date(d).toISOString()));
      day.points.forEach((p: { value: number }, i: number) => expect(close(p.value, want[agg]([...days.values()][i]))).toBe(true));
    });

    it('no readings in the range: no points', async () => {
      const from = new Date(T - 50 * HOUR).toISOString();
      const to = new Date(T - 40 * HOUR).toISOString();
      const body = await s.ok('GET', `/api/v1/devices/g1/readings?metric=level_cm&bucket=1h&from=${from}&to=${to}`);
      expect(body).toEqual({ deviceId: 'g1', metric: 'level_cm', unit: 'cm', points: [] });
    });
  });
}
