// SQL of the open-data downloads, catalogue and public CAP feed: which devices are public, their datastreams,
// and their quality-checked readings in keyset batches (constant memory however long the period).
import { qualityFlags } from '../../alerts/types.ts';
import type { Queryable } from '../db/db.ts';
import { EVALUATED_QUALITIES } from './quality-sql.ts';
import { PUBLISHED_METRICS } from './sta/vocabulary.ts';

/** A device is public when its municipality has open data on and the device is not marked public: false. */
const PUBLIC_DEVICES = `select d.id, d.name, d.model, d.org, d.location from devices d join org_open_data o on o.org = d.org
  where o.enabled and coalesce(d.public, true)`;
const EVALUATED = `quality in (${EVALUATED_QUALITIES.join(', ')})`;

export interface PublicDevice {
  id: string;
  name: string;
  model: string;
  org: string;
  location: { lat: number; lon: number } | null;
}

export async function publicDevice(db: Queryable, id: string): Promise<PublicDevice | undefined> {
  const r = await db.query<PublicDevice>(`select * from (${PUBLIC_DEVICES}) d where d.id = $1`, [id]);
  return r.rows[0];
}

export async function publicDevices(db: Queryable, org?: string): Promise<PublicDevice[]> {
  const r = await db.query<PublicDevice>(`select * from (${PUBLIC_DEVICES}) d where ($1::text is null or d.org = $1) order by d.org, d.id`, [org ?? null]);
  return r.rows;
}

export interface StreamStats {
  deviceId: string;
  metric: string;
  n: number;
  first: Date | null;
  last: Date | null;
}

/** Count and time range of a device's published readings of `metric` in [from, to). */
export async function streamStats(db: Queryable, deviceId: string, metric: string, from: Date, to: Date): Promise<StreamStats> {
  const r = await db.query<{ n: string | number; first: Date | null; last: Date | null }>(
    `select count(*) as n, min(time) as first, max(time) as last from readings
     where device_id = $1 and metric = $2 and time >= $3 and time < $4 and ${EVALUATED}`,
    [deviceId, metric, from, to],
  );
  const x = r.rows[0];
  return { deviceId, metric, n: Number(x?.n ?? 0), first: x?.first ? new Date(x.first) : null, last: x?.last ? new Date(x.last) : null };
}

/** The published metrics a device has readings of in [from, to) (one index probe each). */
export async function metricsWithReadings(db: Queryable, deviceId: string, from: Date, to: Date): Promise<string[]> {
  const r = await db.query<{ metric: string }>(
    `select m.metric from unnest($1::text[]) as m(metric)
     where exists (select 1 from readings r where r.device_id = $2 and r.metric = m.metric and r.time >= $3 and r.time < $4)
     order by m.metric`,
    [PUBLISHED_METRICS.map((m) => m.metric), deviceId, from, to],
  );
  return r.rows.map((x) => x.metric);
}

/** First and newest published reading of a device's metric (index probes, no count). */
export async function streamRange(db: Queryable, deviceId: string, metric: string): Promise<{ first: Date | null; last: Date | null }> {
  const r = await db.query<{ first: Date | null; last: Date | null }>(
    `select (select min(time) from readings where device_id = $1 and metric = $2 and ${EVALUATED}) as first,
            (select max(time) from readings where device_id = $1 and metric = $2 and ${EVALUATED}) as last`,
    [deviceId, metric],
  );
  const x = r.rows[0];
  return { first: x?.first ? new Date(x.first) : null, last: x?.last ? new Date(x.last) : null };
}

/** The quality column's words for each published quality value: ok, or the informational flags (clock_skew). */
const QUALITY_WORDS = `case quality ${EVALUATED_QUALITIES.map((q) => `when ${q} then '${qualityFlags(q).join(' ') || 'ok'}'`).join(' ')} end`;

/**
 * CSV lines of published readings in [from, to), `batch` rows per query, formatted by PostgreSQL into one text
 * per batch (a year is a few dozen queries and strings, not 105 120 row objects), resuming after the last time
 * seen. Each query also stays inside a window of `windowDays`: on TimescaleDB a query is planned over every
 * chunk its time bounds do not exclude, and planning a year of chunks per batch made the embedded store's
 * year download take seconds (docs/benchmarks.md, open data).
 */
export async function* csvLineBatches(
  db: Queryable,
  deviceId: string,
  metric: string,
  from: Date,
  to: Date,
  batch = 5000,
  windowDays = 14,
): AsyncGenerator<string> {
  let lo = from;
  let inclusive = true;
  while (lo < to) {
    const hi = new Date(Math.min(lo.getTime() + windowDays * 86_400_000, to.getTime()));
    const r = await db.query<{ text: string | null; last: Date | null; n: number | string }>(
      `select string_agg(
                to_char(time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                || case when extract(milliseconds from time)::int % 1000 <> 0 then to_char(time at time zone 'UTC', '.MS') else '' end
                || '+00:00,' || value::text || ',' || ${QUALITY_WORDS}, E'\r\n' order by time) as text,
              max(time) as last, count(*) as n
       from (select time, value, quality from readings
             where device_id = $1 and metric = $2 and time >= $3 and (time > $3 or $4::boolean) and time < $5 and ${EVALUATED}
             order by time limit $6) x`,
      [deviceId, metric, lo, inclusive, hi, batch],
    );
    const x = r.rows[0];
    const n = Number(x?.n ?? 0);
    if (n && x?.text) yield `${x.text}\r\n`;
    if (n >= batch && x?.last) {
      lo = new Date(x.last);
      inclusive = false;
    } else {
      lo = hi;
      inclusive = true;
    }
  }
}
