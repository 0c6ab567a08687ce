// [docs/api.md GET /api/v1/devices/{id}/readings] On the embedded store (PGlite with TimescaleDB) a bucket of
// whole hours is answered from the hourly rollup readings_1h: the same numbers as from the raw readings, with
// the same quality filter (spikes out, clock-skewed readings in), the not yet materialised hours, the partial
// hours at both ends of an unaligned [from, to), and readings stored late into an hour that was already
// materialised included, at whatever time of day the test runs.
//
// Time is an input here: every reading, the rollup's refresh window and every [from, to) are placed relative to
// one whole hour T a day before the run, and the policy scheduler is off (ROLES=api), so nothing depends on
// when the test runs. (The earlier version placed the newest readings around the wall clock's hour and asked
// up to now + 1 min: run in the first minutes of an hour it expected readings after its own `to`.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { series } from '../../services/api/routes/readings.ts';
import { type Agg, bucketedReadings } from '../../services/devices/readings.ts';
import { startSystem, type TestSystem } from '../helpers/system.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
let s: TestSystem;
const T = Math.floor(Date.now() / HOUR) * HOUR - 24 * HOUR;
const at = (ms: number) => new Date(T + ms);
const insert = (time: Date, value: number, quality = 0) =>
  s.ctx.db.query(`insert into readings(device_id, metric, time, value, quality) values ('pegel-1', 'level_cm', $1, $2, $3)`, [time, value, quality]);
const refresh = (end: Date) => s.ctx.db.exec(`call refresh_continuous_aggregate('readings_1h', null, '${end.toISOString()}'::timestamptz)`);

beforeAll(async () => {
  s = await startSystem({ store: 'pglite', env: { ROLES: 'api', MQTT_PORT: 'off' } });
  await s.ok('POST', '/api/v1/devices', { id: 'pegel-1', name: 'Pegel 1', model: 'generic' });
  // 4 days of 5-minute readings up to T: every 7th a spike (not evaluated), every 11th clock-skewed (evaluated)
  await s.ctx.db.query(
    `insert into readings(device_id, metric, time, value, quality)
     select 'pegel-1', 'level_cm', $1::timestamptz - (i * interval '5 minutes'), 100 + 30 * sin(i / 9.0) + (i % 13) * 0.37,
            case when i % 7 = 0 then 4 when i % 11 = 0 then 16 else 0 end
     from generate_series(1, 4 * 288) as i`,
    [at(0)],
  );
  await refresh(at(0)); // every hour before T materialised
  // hour T, after the refresh: not materialised, only real-time aggregation sees it
  for (let k = 0; k < 6; k++) await insert(at(k * MIN), 140 + k * 1.5, k === 2 ? 4 : k === 4 ? 16 : 0);
  // stored late into hours that are already materialised (a gateway's buffer, a back-fill)
  await insert(at(-2 * HOUR + MIN + 1), 500);
  await insert(at(-3 * HOUR + 2 * MIN), 900, 4); // a late spike: not evaluated, changes nothing
  await insert(at(-30 * HOUR + 7 * MIN), -20, 16);
}, 180_000);
afterAll(() => s?.close());

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
const get = async (bucket: string, agg: Agg, from: Date, to: Date) => {
  const r = await fetch(
    `${s.httpUrl}/api/v1/devices/pegel-1/readings?metric=level_cm&bucket=${bucket}&agg=${agg}&limit=100000&from=${from.toISOString()}&to=${to.toISOString()}`,
    { headers: { authorization: `Bearer ${s.token}` } },
  );
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  return r.text();
};
const MS = { '1h': HOUR, '3h': 3 * HOUR, '1d': 24 * HOUR } as const;
const AGGS = ['avg', 'sum', 'min', 'max', 'last'] as const;

async function expectRawAnswer(bucket: keyof typeof MS, agg: Agg, from: Date, to: Date) {
  const text = await get(bucket, agg, from, to);
  const body = JSON.parse(text);
  // the documented shape, byte for byte what the schema's serialiser writes
  expect(text).toBe(JSON.stringify(series.parse(body)));
  const raw = await bucketedReadings(s.ctx.db, 'pegel-1', 'level_cm', from, to, MS[bucket], agg, 100_000, { rollup: false });
  const api = body.points as { time: string; value: number }[];
  expect(api.map((p) => p.time)).toEqual(raw.map((p) => p.time.toISOString()));
  const off = api.filter((p, i) => !close(p.value, raw[i].value));
  expect(off).toEqual([]);
  return api;
}

describe('bucketed readings from the hourly rollup', () => {
  it('the setup holds what the cases below rely on', async () => {
    const m = await s.ctx.db.query<{ newest: Date }>(`select max(bucket) as newest from readings_1h where device_id = 'pegel-1'`);
    expect(new Date(m.rows[0].newest).getTime()).toBe(T); // the view, real-time: hour T included
    // the late reading is not in the materialised hour yet (the view alone would answer it wrong)
    const h = await s.ctx.db.query<{ max: number }>(`select max from readings_1h where device_id = 'pegel-1' and bucket = $1`, [at(-2 * HOUR)]);
    expect(h.rows[0].max).toBeLessThan(500);
  });

  const windows: [string, Date, Date][] = [
    ['3 days, unaligned, up to a later hour', at(-72 * HOUR + 17 * MIN), at(HOUR + 17 * MIN)],
    ['ending 3 minutes after the top of the hour', at(-72 * HOUR + 17 * MIN), at(3 * MIN)],
    ['ending at the top of the hour', at(-48 * HOUR), at(0)],
    ['inside materialised hours only', at(-20 * HOUR - 10 * MIN), at(-HOUR + 10 * MIN)],
    ['starting right after the top of an hour', at(-30 * HOUR + 1), at(30 * MIN)],
  ];
  for (const [name, from, to] of windows) {
    for (const bucket of ['1h', '3h', '1d'] as const) {
      it.each(AGGS)(`${name}: bucket=${bucket}&agg=%s equals the raw answer`, async (agg) => {
        const api = await expectRawAnswer(bucket, agg, from, to);
        if (bucket === '1h') expect(api.length).toBeGreaterThan(3);
      });
    }
  }

  it.each(AGGS)('hour T: the readings stored after the refresh, up to `to`, agg=%s', async (agg) => {
    const late = await expectRawAnswer('1h', agg, at(-3 * HOUR), at(HOUR));
    const fresh = [140, 141.5, 144.5, 146, 147.5]; // the spike (143) left out, the clock-skewed 146 counted
    const want = { avg: fresh.reduce((a, b) => a + b) / 5, sum: fresh.reduce((a, b) => a + b), min: 140, max: 147.5, last: 147.5 }[agg];
    expect(late.at(-1)?.time).toBe(at(0).toISOString());
    expect(close(late.at(-1)?.value as number, want)).toBe(true);
    // to = T + 3 min: only what was measured before it (140, 141.5; the spike at T + 2 min left out)
    const early = await expectRawAnswer('1h', agg, at(-3 * HOUR), at(3 * MIN));
    const want2 = { avg: (140 + 141.5) / 2, sum: 281.5, min: 140, max: 141.5, last: 141.5 }[agg];
    expect(early.at(-1)?.time).toBe(at(0).toISOString());
    expect(close(early.at(-1)?.value as number, want2)).toBe(true);
  });

  it('the late reading counts in its hour before and after the next refresh', async () => {
    const before = await expectRawAnswer('1h', 'max', at(-3 * HOUR), at(0));
    expect(before.find((p) => p.time === at(-2 * HOUR).toISOString())?.value).toBe(500);
    await refresh(at(0));
    const after = await expectRawAnswer('1h', 'max', at(-3 * HOUR), at(0));
    expect(after).toEqual(before);
  });
});

// The rollup answer reads the materialised hours and, in the same snapshot, everything else from readings in
// spans bounded by constants (the hours still in the invalidation logs merged into ranges; more than a few
// ranges become one around them all). These cases run after the refresh above: an emptied stretch (a gap), and
// late readings into many separate materialised hours, on the hours' edges, and into the gap.
describe('bucketed readings from the hourly rollup: gaps and scattered late readings', () => {
  beforeAll(async () => {
    await s.ctx.db.query(`delete from readings where device_id = 'pegel-1' and time >= $1 and time < $2`, [at(-50 * HOUR), at(-47 * HOUR)]);
    await refresh(at(0));
  });

  it.each(AGGS)('a gap of three hours is a gap in the answer, agg=%s', async (agg) => {
    const api = await expectRawAnswer('1h', agg, at(-52 * HOUR + 7 * MIN), at(-45 * HOUR));
    expect(api.map((p) => p.time)).not.toContain(at(-49 * HOUR).toISOString());
    expect(api.length).toBe(4);
  });

  // a reading sent again with a corrected value replaces the stored one (the first instant of an hour already holds one)
  const upsert = (time: Date, value: number) =>
    s.ctx.db.query(
      `insert into readings(device_id, metric, time, value, quality) values ('pegel-1', 'level_cm', $1, $2, 0)
       on conflict (device_id, metric, time) do update set value = excluded.value, quality = 0`,
      [time, value],
    );

  it('late readings into twelve separate hours, on their edges and into the gap, count before the refresh', async () => {
    for (let k = 0; k < 12; k++) {
      const hour = -70 * HOUR + k * 4 * HOUR;
      await upsert(at(hour), 1000 + k); // the first instant of the hour
      await insert(at(hour + HOUR - 1), -1000 - k); // its last millisecond
    }
    await insert(at(-49 * HOUR + 30 * MIN), 777); // into the gap: an hour the rollup has no row for
    for (const bucket of ['1h', '3h', '1d'] as const) for (const agg of AGGS) await expectRawAnswer(bucket, agg, at(-80 * HOUR + 17 * MIN), at(-10 * MIN));
    const h = await expectRawAnswer('1h', 'max', at(-72 * HOUR), at(-20 * HOUR));
    expect(h.find((p) => p.time === at(-70 * HOUR).toISOString())?.value).toBe(1000);
    expect(h.find((p) => p.time === at(-49 * HOUR).toISOString())?.value).toBe(777);
    const m = await expectRawAnswer('1h', 'min', at(-72 * HOUR), at(-20 * HOUR));
    expect(m.find((p) => p.time === at(-26 * HOUR).toISOString())?.value).toBe(-1011);
    // one hour stale only: the answer still equals the raw one around it
    await refresh(at(0));
    await insert(at(-33 * HOUR + 59 * MIN), 3333);
    for (const agg of AGGS) await expectRawAnswer('1h', agg, at(-36 * HOUR), at(-30 * HOUR));
  });
});
