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
  let sql: string;
  let params: unknown[];
  if (db.timescale && opts.rollup !== false && bucketMs % HOUR_MS === 0 && lo < hi) {
    // one row per hour (hours from the rollup and from readings never overlap); re-bucketed unless 1 h
    const series =
      bucketMs === HOUR_MS
        ? `select h as t, ${HOUR_SQL[agg]} as v from hours`
        : `select time_bucket($8::interval, h) as t, ${ROLLUP_SQL[agg]} as v from hours group by 1`;
    sql = `with c as (
         select mat_hypertable_id as m, raw_hypertable_id as r from _timescaledb_catalog.continuous_agg
         where user_view_name = 'readings_1h' and user_view_schema = current_schema()),
       w as (
         select $6::bigint as lo, greatest($6::bigint, least($7::bigint, coalesce((select _timescaledb_functions.cagg_watermark(c.m) from c), $6::bigint))) as e),
       stale as (
         select distinct _timescaledb_functions.to_timestamp(h) as h from (
           select lowest_modified_value as l, greatest_modified_value as g
           from _timescaledb_catalog.continuous_aggs_hypertable_invalidation_log join c on hypertable_id = c.r
           union all
           select lowest_modified_value, greatest_modified_value
           from _timescaledb_catalog.continuous_aggs_materialization_invalidation_log join c on materialization_id = c.m) i
         join w on i.l < w.e and i.g >= w.lo
         cross join lateral generate_series(greatest(i.l, w.lo) - mod(greatest(i.l, w.lo) - w.lo, ${HOUR_US}), least(i.g, w.e - 1), ${HOUR_US}::bigint) as h),
       spans as (
         select $3::timestamptz as s, _timescaledb_functions.to_timestamp(w.lo) as u from w
         union all
         select _timescaledb_functions.to_timestamp(w.e), $4::timestamptz from w
         union all
         select h, h + interval '1 hour' from stale),
       hours as (
         select bucket as h, sum, n, min, max, last from ${await materialized(db)}
         where device_id = $1 and metric = $2
           and bucket >= (select _timescaledb_functions.to_timestamp(lo) from w) and bucket < (select _timescaledb_functions.to_timestamp(e) from w)
           and bucket not in (select h from stale)
         union all
         select time_bucket(interval '1 hour', r.time), sum(r.value), count(*), min(r.value), max(r.value), (array_agg(r.value order by r.time desc))[1]
         from spans cross join lateral (
           select time, value from readings where device_id = $1 and metric = $2 and time >= spans.s and time < spans.u and ${EVALUATED_SQL}
           offset 0) r -- offset 0: one index range scan per span, not the whole year joined against the spans
         group by 1)
       select string_agg(((extract(epoch from t) * 1000)::bigint)::text || ' ' || v::text, ',' order by t) as packed
       from (${series} order by 1 limit $5) q`;
    params = [deviceId, metric, from, to, limit, lo * 1000, hi * 1000];
    if (bucketMs !== HOUR_MS) params.push(interval);
  } else {
    const bucket = db.timescale ? `time_bucket($4::interval, time)` : `date_bin($4::interval, time, timestamptz '2000-01-01')`;
    sql = `select string_agg(((extract(epoch from t) * 1000)::bigint)::text || ' ' || v::text, ',' order by t) as packed
       from (select ${bucket} as t, ${AGG_SQL[agg]} as v from readings
             where device_id = $1 and metric = $2 and time >= $3 and time < $5 and ${EVALUATED_SQL} group by 1 order by 1 limit $6) q`;
    params = [deviceId, metric, from, interval, to, limit];
  }
  const r = await db.query<{ packed: string | null }>(sql, params);
  const out: Buckets = { times: [], values: [] };
  const packed = r.rows[0]?.packed;
  if (!packed) return out;
  for (const item of packed.split(',')) {
    const sp = item.indexOf(' ');
    out.times.push(Number(item.slice(0, sp)));
    out.values.push(Number(item.slice(sp + 1)));
  }
  return out;
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
/** an hour in TimescaleDB's internal time (microseconds since 1970) */
const HOUR_US = 3_600_000_000;
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
export async function packedReadingsOf(db: Queryable, deviceIds: string[], metric: string | null, from: Date, to: Date): Promise<PackedReadings[]> {
  const r = await db.query<{ device_id: string; metric: string; packed: string }>(
    `select device_id, metric,
            string_agg(((extract(epoch from time) * 1000)::bigint)::text || ' ' || value::text || ' ' || quality::text, ',' order by time) as packed
     from readings where device_id = any($1::text[]) and ($2::text is null or metric = $2) and time > $3 and time <= $4
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
