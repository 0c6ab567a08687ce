// The SQL of the embedded store's TimescaleDB job runner (timescale-jobs.ts): the policy jobs, running one, and
// what a continuous-aggregate refresh policy has to do (TimescaleDB's catalog and invalidation logs).
import type { Queryable } from '../db/db.ts';

export interface PolicyJob {
  job_id: number;
  proc_name: string;
  hypertable_name: string;
  interval_s: number;
}

export async function policyJobs(db: Queryable): Promise<PolicyJob[]> {
  const r = await db.query<PolicyJob>(
    `select job_id, proc_name, hypertable_name, extract(epoch from schedule_interval)::float8 as interval_s
     from timescaledb_information.jobs where job_id >= 1000 order by job_id`,
  );
  return r.rows;
}

export async function runJob(db: Queryable, jobId: number): Promise<void> {
  await db.exec(`call run_job(${Number(jobId)})`);
}

/**
 * What the refresh policy `jobId` would refresh now, in TimescaleDB's internal time (microseconds since 1970):
 * its window [now − start_offset, now − end_offset] (`start` null: no start_offset), the bucket width, the
 * invalidation threshold (everything from there on is new to the rollup) and the invalidation-log entries
 * [lowest, greatest] (both inclusive) that reach into the window. Undefined when the job is not a plain
 * fixed-width time-bucket rollup with a bounded end (then the job runs as it is).
 */
export interface RefreshPlan {
  view: string;
  bucket: number;
  start: number | null;
  end: number;
  threshold: number;
  invalidated: Array<[number, number]>;
}

export async function refreshPlan(db: Queryable, jobId: number): Promise<RefreshPlan | undefined> {
  const r = await db.query<{ view: string; bucket: number; ws: number | null; we: number; threshold: number | null; inv: string | null }>(
    `with j as (
       select (config->>'mat_hypertable_id')::int as m, (config->>'start_offset')::interval as so, (config->>'end_offset')::interval as eo
       from _timescaledb_config.bgw_job
       where id = $1 and proc_name = 'policy_refresh_continuous_aggregate' and config->>'end_offset' is not null),
     c as (
       select ca.mat_hypertable_id as m, ca.raw_hypertable_id as r, format('%I.%I', ca.user_view_schema, ca.user_view_name) as view,
              extract(epoch from bf.bucket_width::interval) * 1e6 as bw
       from _timescaledb_catalog.continuous_agg ca
       join _timescaledb_catalog.continuous_aggs_bucket_function bf on bf.mat_hypertable_id = ca.mat_hypertable_id
       join j on j.m = ca.mat_hypertable_id
       where bf.bucket_fixed_width and bf.bucket_origin is null and bf.bucket_offset is null and bf.bucket_timezone is null
         and ca.parent_mat_hypertable_id is null),
     w as (
       select extract(epoch from now() - j.so) * 1e6 as ws, extract(epoch from now() - j.eo) * 1e6 as we from j)
     select c.view, c.bw::float8 as bucket, w.ws::float8 as ws, w.we::float8 as we,
            (select t.watermark from _timescaledb_catalog.continuous_aggs_invalidation_threshold t where t.hypertable_id = c.r)::float8 as threshold,
            (select string_agg(i.l::float8::text || ' ' || i.g::float8::text, ',')
             from (
               select lowest_modified_value as l, greatest_modified_value as g
               from _timescaledb_catalog.continuous_aggs_hypertable_invalidation_log where hypertable_id = c.r
               union all
               select lowest_modified_value, greatest_modified_value
               from _timescaledb_catalog.continuous_aggs_materialization_invalidation_log where materialization_id = c.m) i
             where i.l < w.we and (w.ws is null or i.g >= w.ws)) as inv
     from c, w`,
    [jobId],
  );
  const row = r.rows[0];
  if (!row || !(row.bucket > 0)) return undefined;
  return {
    view: row.view,
    bucket: row.bucket,
    start: row.ws,
    end: row.we,
    threshold: row.threshold ?? Number.NEGATIVE_INFINITY,
    invalidated: (row.inv?.split(',') ?? []).map((x) => x.split(' ').map(Number) as [number, number]),
  };
}

/** Refreshes `view` over [start, end) (microseconds since 1970; start null = from its beginning). */
export async function refreshContinuousAggregate(db: Queryable, view: string, start: number | null, end: number): Promise<void> {
  const ts = (us: number) => `to_timestamp(${(us / 1e6).toFixed(6)})`;
  await db.exec(`call refresh_continuous_aggregate('${view.replaceAll("'", "''")}', ${start === null ? 'null' : ts(start)}, ${ts(end)})`);
}
