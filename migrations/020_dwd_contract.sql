-- DWD inputs as CONTRACT.md §11 names them (docs/dwd.md):
-- 1. a municipality's DWD warncell set through PUT /api/v1/orgs/{org} {"warncellId"} (on top of DWD_WARNCELLS/CAP_ARS);
-- 2. a catchment's nowcast device is `catchment-<id>` (was `nowcast-<id>`) and the peak metric `forecast_peak_mm_h`
--    (was `forecast_peak_mmh`): existing devices, their readings, alarms and rules are renamed.
create table if not exists org_dwd (
  org          text primary key,
  warncell_id  text not null,
  updated_at   timestamptz not null default now()
);

-- the nowcast devices of existing catchments under their new id (a copy, then every reference moves, then the old row goes)
insert into devices (id, name, model, dev_eui, location, params, tags, created_at, updated_at, org, public)
  select 'catchment-' || substr(d.id, 9), d.name, d.model, null, d.location, d.params, d.tags, d.created_at, now(), d.org, d.public
  from devices d
  where d.model = 'dwd-nowcast' and d.id like 'nowcast-%'
on conflict (id) do nothing;

update alarms set device_id = 'catchment-' || substr(device_id, 9)
  where device_id like 'nowcast-%' and exists (select 1 from devices d where d.id = 'catchment-' || substr(alarms.device_id, 9));
update alarms set metric = 'forecast_peak_mm_h' where metric = 'forecast_peak_mmh';
update device_counters set device_id = 'catchment-' || substr(device_id, 9)
  where device_id like 'nowcast-%' and exists (select 1 from devices d where d.id = 'catchment-' || substr(device_counters.device_id, 9))
    and not exists (select 1 from device_counters c where c.device_id = 'catchment-' || substr(device_counters.device_id, 9));
delete from device_health where device_id like 'nowcast-%' and exists (select 1 from devices d where d.id = device_health.device_id and d.model = 'dwd-nowcast');

-- rules naming the old device or metric anywhere in their definition (deviceIds, metric, conditions)
update rules
  set definition = replace(replace(definition::text, '"nowcast-', '"catchment-'), '"forecast_peak_mmh"', '"forecast_peak_mm_h"')::jsonb,
      input = replace(replace(input::text, '"nowcast-', '"catchment-'), '"forecast_peak_mmh"', '"forecast_peak_mm_h"')::jsonb,
      updated_at = now()
  where definition::text like '%"nowcast-%' or definition::text like '%"forecast_peak_mmh"%'
     or input::text like '%"nowcast-%' or input::text like '%"forecast_peak_mmh"%';

-- the stored forecasts. On TimescaleDB, chunks that are already compressed may refuse UPDATE (versions before
-- 2.11): then the old rows stay under the old names (they are forecasts; new runs are written under the new
-- names) and a notice says so; see docs/dwd.md "Upgrading".
do $$
begin
  update readings set device_id = 'catchment-' || substr(device_id, 9)
    where device_id like 'nowcast-%' and exists (select 1 from devices d where d.id = 'catchment-' || substr(readings.device_id, 9));
  update readings set metric = 'forecast_peak_mm_h' where metric = 'forecast_peak_mmh' and device_id like 'catchment-%';
exception when others then
  raise notice 'nowcast readings not renamed (%): older forecasts stay under nowcast-<id> / forecast_peak_mmh', sqlerrm;
end $$;

delete from devices where model = 'dwd-nowcast' and id like 'nowcast-%'
  and exists (select 1 from devices n where n.id = 'catchment-' || substr(devices.id, 9));
