-- requires: timescaledb
-- Readings in 7-day chunks instead of 1-day ones (new chunks only; existing ones keep their size). Every query
-- over readings without a time bound — the open-data API's latest value, its pages, a Datastream's time range —
-- is planned over every chunk, and on the embedded store planning a year of day-chunks took longer than running
-- the query (docs/benchmarks.md, open data: 570 ms planning against 13 ms execution for 70 chunks). Compression
-- (after 7 days) and the continuous aggregates work per chunk as before.
select set_chunk_time_interval('readings', interval '7 days');
