-- Catchments (Einzugsgebiete, issue 20): an area per municipality (GeoJSON polygon in WGS84, or a circle around
-- stations stored as its polygon), the gauges that lie in it, and what the radar nowcast needs for it.
-- Each catchment's nowcast is stored as readings of its virtual device (id `nowcast-<catchment id>`).
create table if not exists catchments (
  id            text primary key,
  org           text not null default 'default',
  name          text not null,
  geometry      jsonb not null,
  buffer_m      integer not null default 1000,
  threshold_mm  double precision not null default 20,
  device_ids    text[] not null default '{}',
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);
create index if not exists catchments_org on catchments (org);
