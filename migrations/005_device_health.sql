-- What the server noticed about a device besides its readings: how far its clock was off the network
-- server's receive time (its readings were re-stamped), and device warnings such as a tipping bucket that
-- stopped counting while its neighbours report rain. Shown on GET /api/v1/devices/{id}.
create table if not exists device_health (
  device_id     text primary key references devices(id) on delete cascade,
  clock_skew_s  double precision,
  clock_skew_at timestamptz,
  warnings      jsonb not null default '[]'::jsonb
);
