-- Regenwacht foundation schema: devices, readings, uplinks, rejected uplinks, credentials, tokens, audit log.
-- Runs on PostgreSQL >= 14 and on TimescaleDB; hypertables are added by 002 where TimescaleDB is present.

create table if not exists devices (
  id          text primary key,
  name        text not null,
  model       text not null,
  dev_eui     text unique,
  location    jsonb,
  params      jsonb not null default '{}',
  tags        jsonb not null default '{}',
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

-- One row per (device, metric, time): duplicates are stored once (ON CONFLICT DO NOTHING).
create table if not exists readings (
  time       timestamptz not null,
  device_id  text not null,
  metric     text not null,
  value      double precision not null,
  quality    smallint not null default 0,
  primary key (device_id, metric, time)
);

-- Radio and frame metadata of each accepted uplink.
create table if not exists uplinks (
  time        timestamptz not null,
  device_id   text not null,
  received_at timestamptz not null default now(),
  source      text not null,
  f_cnt       bigint,
  f_port      int,
  rssi        double precision,
  snr         double precision,
  gateways    jsonb,
  primary key (device_id, time)
);

create table if not exists rejected_uplinks (
  id          bigserial primary key,
  received_at timestamptz not null default now(),
  topic       text not null,
  payload     text not null,
  payload_encoding text not null default 'utf8',
  payload_bytes int not null,
  reason      text not null,
  message     text not null,
  device_id   text,
  client_id   text
);
create index if not exists rejected_uplinks_time on rejected_uplinks (received_at desc);
create index if not exists rejected_uplinks_reason on rejected_uplinks (reason, received_at desc);

-- Tip counters survive restarts: last raw counter per device.
create table if not exists device_counters (
  device_id  text primary key,
  count      bigint not null,
  bits       int not null,
  time       timestamptz not null
);

create table if not exists mqtt_credentials (
  username      text primary key,
  password_hash text not null,
  publish       text[] not null,
  created_at    timestamptz not null default now(),
  created_by    text
);

create table if not exists api_tokens (
  id          bigserial primary key,
  name        text not null,
  role        text not null,
  token_hash  text not null unique,
  created_at  timestamptz not null default now(),
  created_by  text,
  revoked_at  timestamptz
);

create table if not exists audit_log (
  id        bigserial primary key,
  at        timestamptz not null default now(),
  actor     text not null,
  action    text not null,
  entity    text not null,
  entity_id text,
  details   jsonb
);
create index if not exists audit_log_at on audit_log (at desc);

create table if not exists codecs (
  id          text primary key,
  source      text not null,
  field_map   jsonb not null default '{}',
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
