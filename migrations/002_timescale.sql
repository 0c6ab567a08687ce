-- requires: timescaledb
-- Hypertable, compression and retention for readings; 5-minute and hourly rollups.
select create_hypertable('readings', 'time', chunk_time_interval => interval '1 day', if_not_exists => true, migrate_data => true);
select create_hypertable('uplinks', 'time', chunk_time_interval => interval '1 day', if_not_exists => true, migrate_data => true);

alter table readings set (timescaledb.compress, timescaledb.compress_segmentby = 'device_id, metric', timescaledb.compress_orderby = 'time');
select add_compression_policy('readings', interval '7 days', if_not_exists => true);
select add_retention_policy('uplinks', interval '400 days', if_not_exists => true);

create materialized view if not exists readings_5m with (timescaledb.continuous) as
  select time_bucket(interval '5 minutes', time) as bucket, device_id, metric,
         avg(value) as avg, sum(value) as sum, min(value) as min, max(value) as max, last(value, time) as last, count(*) as n
  from readings where quality = 0 group by 1, 2, 3 with no data;

create materialized view if not exists readings_1h with (timescaledb.continuous) as
  select time_bucket(interval '1 hour', time) as bucket, device_id, metric,
         avg(value) as avg, sum(value) as sum, min(value) as min, max(value) as max, last(value, time) as last, count(*) as n
  from readings where quality = 0 group by 1, 2, 3 with no data;

select add_continuous_aggregate_policy('readings_5m', start_offset => interval '1 day', end_offset => interval '5 minutes', schedule_interval => interval '5 minutes', if_not_exists => true);
select add_continuous_aggregate_policy('readings_1h', start_offset => interval '7 days', end_offset => interval '1 hour', schedule_interval => interval '1 hour', if_not_exists => true);
