// SQL of READINGS_RETENTION_DAYS: the TimescaleDB retention policy on readings (TimescaleDB and the embedded
// store), and the batched delete that stands in for it on plain PostgreSQL. [README.md Configuration]
import type { Queryable } from '../db/db.ts';

/** Sets (or removes, for `days` undefined) the retention policy of the readings hypertable; true if it changed. */
export async function setTimescaleReadingsRetention(db: Queryable, days: number | undefined): Promise<boolean> {
  const cur = await db.query<{ days: number | null }>(
    `select extract(epoch from (config->>'drop_after')::interval)::float8 / 86400 as days
     from timescaledb_information.jobs where proc_name = 'policy_retention' and hypertable_name = 'readings'`,
  );
  const now = cur.rows[0]?.days ?? undefined;
  if (now === days) return false;
  await db.query(`select remove_retention_policy('readings', if_exists => true)`);
  if (days !== undefined) await db.query(`select add_retention_policy('readings', make_interval(days => $1::int), if_not_exists => true)`, [days]);
  return true;
}

export interface RetentionCursor {
  deviceId: string;
  metric: string;
}

/**
 * Deletes at most `limit` readings older than `cutoff`, walking the (device, metric) series in primary-key order
 * from `from` on, each series by its own index range (plain PostgreSQL has no index on time alone, and a scan of
 * the whole table per batch would stall). One short statement: only the deleted rows are locked, and only
 * until it commits. Returns how many were deleted and the series to go on from; fewer than `limit` means done.
 */
export async function deleteExpiredReadings(
  db: Queryable,
  cutoff: Date,
  from: RetentionCursor | undefined,
  limit: number,
): Promise<{ deleted: number; next?: RetentionCursor }> {
  const r = await db.query<{ device_id: string; metric: string; n: number }>(
    `with recursive series(device_id, metric) as (
       (select device_id, metric from readings where (device_id, metric) >= ($2::text, $3::text) order by device_id, metric limit 1)
       union all
       select nx.device_id, nx.metric from series s cross join lateral (
         select r.device_id, r.metric from readings r where (r.device_id, r.metric) > (s.device_id, s.metric)
         order by r.device_id, r.metric limit 1) nx
     ),
     victims as (
       select v.c from series s cross join lateral (
         select r.ctid as c from readings r where r.device_id = s.device_id and r.metric = s.metric and r.time < $1
         order by r.time limit $4) v
       limit $4
     ),
     gone as (delete from readings where ctid = any (array(select c from victims)) returning device_id, metric)
     select device_id, metric, (count(*) over ())::int as n from gone order by device_id desc, metric desc limit 1`,
    [cutoff, from?.deviceId ?? '', from?.metric ?? '', limit],
  );
  const row = r.rows[0];
  return row ? { deleted: row.n, next: { deviceId: row.device_id, metric: row.metric } } : { deleted: 0 };
}
