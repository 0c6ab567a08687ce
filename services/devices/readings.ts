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

/** Evaluated readings (no NOT_EVALUATED bit) aggregated into buckets of `bucketMs`, aligned to whole buckets
 *  since 2000-01-01 (2000-01-03 with TimescaleDB's time_bucket; the same for whole hours and days). On
 *  TimescaleDB a bucket of whole hours is answered from the hourly rollup `readings_1h` (migration 019: the
 *  same quality filter, real-time, so the newest hour is included) for the whole hours in [from, to), and from
 *  readings for the partial hours at either end — only with `rollup: true`: the rollup answered wrong sums next to
 *  the top of the hour (CI run at 15:03, 2026-11-30), so the API uses the raw path until that is found. */
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
  const interval = `${bucketMs / 1000} seconds`;
  const lo = Math.ceil(from.getTime() / HOUR_MS) * HOUR_MS;
  const hi = Math.floor(to.getTime() / HOUR_MS) * HOUR_MS;
  if (db.timescale && opts.rollup === true && bucketMs % HOUR_MS === 0 && lo < hi) {
    const r = await db.query<{ t: Date; v: number }>(
      `with hours as (
         select bucket as h, sum, n, min, max, last from readings_1h
         where device_id = $1 and metric = $2 and bucket >= $7 and bucket < $8
         union all
         select time_bucket(interval '1 hour', time), sum(value), count(*), min(value), max(value), (array_agg(value order by time desc))[1]
         from readings
         where device_id = $1 and metric = $2 and time >= $3 and time < $5 and (time < $7 or time >= $8) and ${EVALUATED_SQL}
         group by 1)
       select time_bucket($4::interval, h) as t, ${ROLLUP_SQL[agg]} as v from hours group by 1 order by 1 limit $6`,
      [deviceId, metric, from, interval, to, limit, new Date(lo), new Date(hi)],
    );
    return r.rows.map((x) => ({ time: new Date(x.t), value: Number(x.v) }));
  }
  const bucket = db.timescale ? `time_bucket($4::interval, time)` : `date_bin($4::interval, time, timestamptz '2000-01-01')`;
  const r = await db.query<{ t: Date; v: number }>(
    `select ${bucket} as t, ${AGG_SQL[agg]} as v from readings
     where device_id = $1 and metric = $2 and time >= $3 and time < $5 and ${EVALUATED_SQL} group by 1 order by 1 limit $6`,
    [deviceId, metric, from, interval, to, limit],
  );
  return r.rows.map((x) => ({ time: new Date(x.t), value: Number(x.v) }));
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
