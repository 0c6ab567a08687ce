-- requires: timescaledb
-- The hourly rollup with the readings API's quality semantics, so GET /api/v1/devices/{id}/readings with
-- bucket=1h (and whole multiples) reads it instead of a year of raw rows (docs/api.md, docs/benchmarks.md).
-- 002 kept only quality = 0; the API evaluates every reading without the bits of NOT_EVALUATED
-- (alerts/types.ts: out of range 1, dead zone 2, spike 4, gradient 8 = 15), so a clock-skewed (16) reading
-- counts in both now. Real-time aggregation: hours not yet materialised are aggregated from readings at query
-- time. Recreated empty (continuous aggregates cannot be filled inside the migration's transaction); migrate()
-- fills it once right after (services/db/migrate.ts). The policy refreshes every invalidated hour, however old
-- (start_offset null), every 15 minutes; the newest hour stays real-time (end_offset 1 hour).
drop materialized view if exists readings_1h;

create materialized view readings_1h with (timescaledb.continuous, timescaledb.materialized_only = false) as
  select time_bucket(interval '1 hour', time) as bucket, device_id, metric,
         avg(value) as avg, sum(value) as sum, min(value) as min, max(value) as max, last(value, time) as last, count(*) as n
  from readings where (quality & 15) = 0 group by 1, 2, 3 with no data;

select add_continuous_aggregate_policy('readings_1h', start_offset => null, end_offset => interval '1 hour', schedule_interval => interval '15 minutes', if_not_exists => true);
