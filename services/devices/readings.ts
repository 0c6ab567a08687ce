// Reading series of one device: what GET /api/v1/devices/:id/readings answers and what the console's
// station page draws, from one place.
import { EVALUATED_SQL } from '../../alerts/types.ts';
import type { Db, Queryable } from '../db/db.ts';

export type Agg = 'avg' | 'sum' | 'min' | 'max' | 'last';
const AGG_SQL: Record<Agg, string> = {
  avg: 'avg(value)',
  sum: 'sum(value)',
  min: 'min(value)',
  max: 'max(value)',
  last: '(array_agg(value order by time desc))[1]',
};

export interface RawPoint {
  time: Date;
  value: number;
  quality: number;
}

/** Every stored reading of one metric in [from, to), flagged ones included (their quality bits say why). */
export async function rawReadings(db: Db, deviceId: string, metric: string, from: Date, to: Date, limit: number): Promise<RawPoint[]> {
  const r = await db.query<{ time: Date; value: number; quality: number }>(
    'select time, value, quality from readings where device_id = $1 and metric = $2 and time >= $3 and time < $4 order by time limit $5',
    [deviceId, metric, from, to, limit],
  );
  return r.rows.map((x) => ({ time: new Date(x.time), value: x.value, quality: x.quality }));
}

/** Buckets of one series as parallel arrays, oldest first: bucket start (epoch ms) and value. */
export interface Buckets {
  times: number[];
  values: number[];
}

/** Evaluated readings (no NOT_EVALUATED bit) aggregated into buckets of `bucketMs`, aligned to whole buckets
 *  since 2000-01-01 (2000-01-03 with TimescaleDB's time_bucket; the same for whole hours and days). */
export async function bucketedReadings(
  db: Db,
  deviceId: string,
  metric: string,
  from: Date,
  to: Date,
  bucketMs: number,
  agg: Agg,
  limit: number,
  opts: { rollup?: boolean } = {},
): Promise<{ time: Date; value: number }[]> {
  const b = await bucketSeries(db, deviceId, metric, from, to, bucketMs, agg, limit, opts);
  return b.times.map((t, i) => ({ time: new Date(t), value: b.values[i] }));
}

/**
 * `bucketedReadings` as parallel arrays (no Date or object per bucket: a year of hours is 8 761 of them). The
 * series comes from PostgreSQL packed in one text ("epoch-ms value" per bucket, comma-separated; float8 prints
 * the shortest text that reads back to the same double), not as one row per bucket.
 *
 * On TimescaleDB a bucket of whole hours is answered from the hourly rollup `readings_1h` (migration 019, the
 * same quality filter) for the whole hours in [from, to) that are materialised and current, and from readings
 * for everything else: the partial hours at either end, the hours at or after the rollup's watermark (not yet
 * materialised), and every materialised hour that readings were written into after it was materialised (a late
 * or back-filled reading; TimescaleDB keeps such hours in its invalidation logs until the next refresh, and the
 * real-time view would answer them from the stale materialisation). So the answer equals the raw one whenever
 * it is asked, not only after the refresh policy ran. `rollup: false` forces the raw path (tests compare both).
 */
export async function bucketSeries(
  db: Db,
  deviceId: string,
  metric: string,
  from: Date,
  to: Date,
  bucketMs: number,
  agg: Agg,
  limit: number,
  opts: { rollup?: boolean } = {},
): Promise<Buckets> {
  const interval = `${bucketMs / 1000} seconds`;
  const lo = Math.ceil(from.getTime() / HOUR_MS) * HOUR_MS;
  const hi = Math.floor(to.getTime() / HOUR_MS) * HOUR_MS;
  if (db.timescale && opts.rollup !== false && bucketMs % HOUR_MS === 0 && lo < hi) {
    // One snapshot for both statements: which hours are materialised and current, and their numbers.
    const mat = await materialized(db);
    return db.transaction(async (tx) => {
      await tx.exec('set transaction isolation level repeatable read, read only');
      const { e, stale } = await rollupState(tx, lo, hi);
      return unpackBuckets(await rollupQuery(tx, mat, deviceId, metric, from, to, lo, e, stale, bucketMs, interval, agg, limit));
    });
  }
  const bucket = db.timescale ? `time_bucket($4::interval, time)` : `date_bin($4::interval, time, timestamptz '2000-01-01')`;
  const r = await db.query<{ packed: string | null }>(
    `select string_agg(${PACK_SQL}, ',' order by t) as packed
       from (select ${bucket} as t, ${AGG_SQL[agg]} as v from readings
             where device_id = $1 and metric = $2 and time >= $3 and time < $5 and ${EVALUATED_SQL} group by 1 order by 1 limit $6) q`,
    [deviceId, metric, from, interval, to, limit],
  );
  return unpackBuckets(r.rows[0]?.packed);
}

/** A bucket's start in epoch ms and its value as text (`t`, `v` of the packing query). date_part's float8
 *  epoch (exact for bucket starts, which are whole milliseconds) instead of extract's numeric one: the same
 *  digits, somewhat cheaper per bucket (numeric multiplication and cast). */
const PACK_SQL = `(date_part('epoch', t) * 1000)::int8::text || ' ' || v::text`;

function unpackBuckets(packed: string | null | undefined): Buckets {
  const out: Buckets = { times: [], values: [] };
  if (!packed) return out;
  for (const item of packed.split(',')) {
    const sp = item.indexOf(' ');
    out.times.push(Number(item.slice(0, sp)));
    out.values.push(Number(item.slice(sp + 1)));
  }
  return out;
}

/**
 * The rollup's state for the whole hours [lo, hi) (epoch ms): `e`, the end of what is materialised (lo ≤ e ≤
 * hi), and the hours in [lo, e) that readings were written into after they were materialised (in TimescaleDB's
 * invalidation logs until the next refresh), merged into ranges [start, end). Catalog tables only: cheap.
 */
async function rollupState(db: Queryable, lo: number, hi: number): Promise<{ e: number; stale: Array<[number, number]> }> {
  const r = await db.query<{ e: string; stale: string | null }>(
    `with c as (
       select mat_hypertable_id as m, raw_hypertable_id as r from _timescaledb_catalog.continuous_agg
       where user_view_name = 'readings_1h' and user_view_schema = current_schema()),
     w as (
       select $1::bigint as lo, greatest($1::bigint, least($2::bigint, coalesce((select _timescaledb_functions.cagg_watermark(c.m) from c), $1::bigint))) as e)
     select w.e::text as e, (
       select string_agg(greatest(i.l, w.lo)::text || ' ' || least(i.g, w.e - 1)::text, ',')
       from (
         select lowest_modified_value as l, greatest_modified_value as g
         from _timescaledb_catalog.continuous_aggs_hypertable_invalidation_log join c on hypertable_id = c.r
         union all
         select lowest_modified_value, greatest_modified_value
         from _timescaledb_catalog.continuous_aggs_materialization_invalidation_log join c on materialization_id = c.m) i
       where i.l < w.e and i.g >= w.lo) as stale
     from w`,
    [lo * 1000, hi * 1000],
  );
  // TimescaleDB's internal time is microseconds since 1970; the watermark is a bucket (hour) boundary, floored
  // anyway so no materialised hour reaches past e
  const e = Math.floor(Number(r.rows[0].e) / 1000 / HOUR_MS) * HOUR_MS;
  const ranges: Array<[number, number]> = [];
  for (const item of r.rows[0].stale?.split(',') ?? []) {
    const [l, g] = item.split(' ').map((x) => Number(x) / 1000);
    // every hour touched by [l, g] (microseconds, both inclusive), within [lo, e)
    const start = lo + Math.floor((l - lo) / HOUR_MS) * HOUR_MS;
    const end = Math.min(e, lo + (Math.floor((Math.floor(g) - lo) / HOUR_MS) + 1) * HOUR_MS);
    if (start < end) ranges.push([start, end]);
  }
  return { e, stale: mergeRanges(ranges) };
}

/** Ranges sorted and merged where they touch; more than MAX_STALE_RANGES become one range around them all
 *  (any hour may be read from readings: the answer is the same, only slower). */
function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  if (out.length > MAX_STALE_RANGES) return [[out[0][0], out[out.length - 1][1]]];
  return out;
}
const MAX_STALE_RANGES = 8;

/**
 * The hours of [from, to) as rows of (sum, n, min, max, last): the materialised hours in [lo, e) outside the
 * stale ranges from `mat`, every other hour aggregated from readings (the partial hours before lo, [e, to), and
 * the stale ranges), then bucketed and packed. Every bound is a constant of the statement (a parameter of its
 * one-off plan), so TimescaleDB plans only the chunks they touch: a span of readings one or two of the year's
 * 53, not all of them for every span. [docs/benchmarks.md Readings, sixth session]
 */
async function rollupQuery(
  db: Queryable,
  mat: string,
  deviceId: string,
  metric: string,
  from: Date,
  to: Date,
  lo: number,
  e: number,
  stale: Array<[number, number]>,
  bucketMs: number,
  interval: string,
  agg: Agg,
  limit: number,
): Promise<string | null> {
  const params: unknown[] = [deviceId, metric, limit];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}::${typeof v === 'string' ? 'interval' : 'timestamptz'}`;
  };
  const spans: Array<[Date, Date]> = [[from, new Date(lo)], ...stale.map(([s, u]): [Date, Date] => [new Date(s), new Date(u)]), [new Date(e), to]];
  const raw = spans
    .filter(([s, u]) => s < u)
    .map(([s, u]) => `select time, value from readings where device_id = $1 and metric = $2 and time >= ${p(s)} and time < ${p(u)} and ${EVALUATED_SQL}`);
  const parts: string[] = [];
  if (lo < e) {
    const notStale = stale.map(([s, u]) => ` and not (bucket >= ${p(new Date(s))} and bucket < ${p(new Date(u))})`).join('');
    parts.push(
      `select bucket as h, sum, n, min, max, last from ${mat}
       where device_id = $1 and metric = $2 and bucket >= ${p(new Date(lo))} and bucket < ${p(new Date(e))}${notStale}`,
    );
  }
  if (raw.length)
    parts.push(
      `select time_bucket(interval '1 hour', time), sum(value), count(*), min(value), max(value), (array_agg(value order by time desc))[1]
       from (${raw.join(' union all ')}) r group by 1`,
    );
  // one row per hour (hours from the rollup and from readings never overlap); re-bucketed unless 1 h
  const series =
    bucketMs === HOUR_MS
      ? `select h as t, ${HOUR_SQL[agg]} as v from hours`
      : `select time_bucket(${p(interval)}, h) as t, ${ROLLUP_SQL[agg]} as v from hours group by 1`;
  const r = await db.query<{ packed: string | null }>(
    `with hours(h, sum, n, min, max, last) as (${parts.join(' union all ')})
     select string_agg(${PACK_SQL}, ',' order by t) as packed from (${series} order by 1 limit $3) q`,
    params,
  );
  return r.rows[0]?.packed;
}

/** The table TimescaleDB materialises `readings_1h` into, read directly for hours below the watermark (the
 *  view would also plan its real-time branch over every chunk of readings). One lookup per database: the
 *  rollup is only recreated by a migration, before the database is used. */
const matTable = new WeakMap<Db, Promise<string>>();
function materialized(db: Db): Promise<string> {
  let t = matTable.get(db);
  if (!t) {
    t = db
      .query<{ name: string }>(
        `select format('%I.%I', h.schema_name, h.table_name) as name from _timescaledb_catalog.continuous_agg c
         join _timescaledb_catalog.hypertable h on h.id = c.mat_hypertable_id
         where c.user_view_name = 'readings_1h' and c.user_view_schema = current_schema()`,
      )
      .then((r) => {
        if (!r.rows[0]) throw new Error('the hourly rollup readings_1h is missing (migration 019)');
        return r.rows[0].name;
      });
    t.catch(() => matTable.delete(db));
    matTable.set(db, t);
  }
  return t;
}

const HOUR_MS = 3_600_000;
/** `AGG_SQL` over hourly partial aggregates (sum, n, min, max, last of each hour `h`). */
const ROLLUP_SQL: Record<Agg, string> = {
  avg: 'sum(sum) / sum(n)::float8',
  sum: 'sum(sum)',
  min: 'min(min)',
  max: 'max(max)',
  last: '(array_agg(last order by h desc))[1]',
};
/** `AGG_SQL` of one hour from its partial aggregate (float8 avg is sum / count, as PostgreSQL's avg computes it). */
const HOUR_SQL: Record<Agg, string> = {
  avg: 'sum / n::float8',
  sum: 'sum',
  min: 'min',
  max: 'max',
  last: 'last',
};

/** The metrics a device has readings of in [from, to). */
export async function metricsOf(db: Db, deviceId: string, from: Date, to: Date): Promise<string[]> {
  const r = await db.query<{ metric: string }>('select distinct metric from readings where device_id = $1 and time >= $2 and time < $3 order by metric', [
    deviceId,
    from,
    to,
  ]);
  return r.rows.map((x) => x.metric);
}

export interface DeviceHealth {
  lastSeen: Date | null;
  rssi: number | null;
  snr: number | null;
  /** median time between the last uplinks, ms */
  intervalMs: number | null;
}

/** Radio and timing of the newest uplinks. */
export async function deviceHealth(db: Db, deviceId: string): Promise<DeviceHealth> {
  const r = await db.query<{ time: Date; rssi: number | null; snr: number | null }>(
    'select time, rssi, snr from uplinks where device_id = $1 order by time desc limit 21',
    [deviceId],
  );
  const ts = r.rows.map((x) => new Date(x.time).getTime());
  const gaps = ts
    .slice(1)
    .map((t, k) => ts[k] - t)
    .filter((g) => g > 0)
    .sort((a, b) => a - b);
  const radio = r.rows.find((x) => x.rssi !== null || x.snr !== null);
  return {
    lastSeen: r.rows[0] ? new Date(r.rows[0].time) : null,
    rssi: radio?.rssi ?? null,
    snr: radio?.snr ?? null,
    intervalMs: gaps.length ? gaps[Math.floor(gaps.length / 2)] : null,
  };
}

/** The newest good reading of each of these metrics. */
export async function latestValues(db: Db, deviceId: string, metrics: string[]): Promise<Record<string, { time: Date; value: number }>> {
  const out: Record<string, { time: Date; value: number }> = {};
  for (const m of metrics) {
    const r = await db.query<{ time: Date; value: number }>(
      `select time, value from readings where device_id = $1 and metric = $2 and ${EVALUATED_SQL} order by time desc limit 1`,
      [deviceId, m],
    );
    if (r.rows[0]) out[m] = { time: new Date(r.rows[0].time), value: r.rows[0].value };
  }
  return out;
}

export interface StoredReading {
  deviceId: string;
  metric: string;
  time: number;
  value: number;
  quality: number;
}

/** The stored readings of one device and metric, packed as PostgreSQL sent them: "time value quality" per
 *  reading, comma-separated, oldest first. Unpack with `unpackReadings`. */
export interface PackedReadings {
  deviceId: string;
  metric: string;
  packed: string;
}

/**
 * Every stored reading of these devices in (from, to], flagged ones included, one packed text per device and
 * metric (a backtest's input). One row per series instead of one per reading: a month of 5-minute data is
 * ~200,000 rows, and the driver's per-row work (a row object, a Date per timestamptz) costs more than the
 * replay itself; splitting one string is a fraction of that. Values come back exact (float8 prints the
 * shortest text that reads back to the same double).
 */
export async function packedReadingsOf(
  db: Queryable,
  deviceIds: string[],
  metric: string | null,
  from: Date,
  to: Date,
  o: { previous?: boolean } = {},
): Promise<PackedReadings[]> {
  // `previous` (one metric): also each device's last evaluated reading at or before `from`, as the live engine
  // keeps it — a rate window starting in a gap interpolates its start from it
  const before =
    o.previous && metric !== null
      ? `union all
         select x.time, d.id, $2::text, x.value, x.quality from unnest($1::text[]) as d(id)
         cross join lateral (select time, value, quality from readings where device_id = d.id and metric = $2 and time <= $3 and ${EVALUATED_SQL}
                             order by time desc limit 1) x`
      : '';
  const r = await db.query<{ device_id: string; metric: string; packed: string }>(
    `select device_id, metric,
            string_agg(((extract(epoch from time) * 1000)::bigint)::text || ' ' || value::text || ' ' || quality::text, ',' order by time) as packed
     from (select time, device_id, metric, value, quality from readings
           where device_id = any($1::text[]) and ($2::text is null or metric = $2) and time > $3 and time <= $4
           ${before}) r
     group by device_id, metric`,
    [deviceIds, metric, from, to],
  );
  return r.rows.map((x) => ({ deviceId: x.device_id, metric: x.metric, packed: x.packed }));
}

/** The readings of packed series, oldest first (series of several metrics merged by time), each with `at`
 *  = its time (when live evaluation saw it, before the quality filter's replay moves a held one). */
export function unpackReadings(series: PackedReadings[]): (StoredReading & { at: number })[] {
  const out: (StoredReading & { at: number })[] = [];
  for (const s of series) {
    if (!s.packed) continue;
    for (const item of s.packed.split(',')) {
      const a = item.indexOf(' ');
      const b = item.indexOf(' ', a + 1);
      const time = Number(item.slice(0, a));
      out.push({ deviceId: s.deviceId, metric: s.metric, time, value: Number(item.slice(a + 1, b)), quality: Number(item.slice(b + 1)), at: time });
    }
  }
  if (series.length > 1) out.sort((x, y) => x.time - y.time);
  return out;
}
