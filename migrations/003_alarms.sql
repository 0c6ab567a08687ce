-- Rules, alarms with their history, routes, silences and the notification outbox.

create table if not exists rules (
  id          text primary key,
  name        text not null,
  definition  jsonb not null,
  input       jsonb not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

create table if not exists alarms (
  id               bigserial primary key,
  rule_id          text not null,
  rule_name        text not null,
  device_id        text not null,
  metric           text not null,
  severity         text not null,
  state            text not null,
  value            double precision not null,
  threshold        double precision not null,
  unit             text not null,
  window_label     text,
  mode             text not null default 'active',
  started_at       timestamptz not null,
  updated_at       timestamptz not null,
  acknowledged_at  timestamptz,
  acknowledged_by  text,
  resolved_at      timestamptz
);
-- Never two open alarms for the same (rule, device), even with two processes. [docs/operations.md]
create unique index if not exists alarms_one_open on alarms (rule_id, device_id) where state <> 'resolved';
create index if not exists alarms_device on alarms (device_id, started_at desc);

create table if not exists alarm_events (
  id         bigserial primary key,
  alarm_id   bigint not null references alarms(id) on delete cascade,
  at         timestamptz not null,
  kind       text not null,
  severity   text not null,
  value      double precision,
  threshold  double precision,
  actor      text,
  comment    text
);
create index if not exists alarm_events_alarm on alarm_events (alarm_id, id);

create table if not exists routes (
  id          text primary key,
  name        text not null,
  definition  jsonb not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

create table if not exists silences (
  id          text primary key,
  match       jsonb not null,
  starts_at   timestamptz not null,
  ends_at     timestamptz not null,
  comment     text not null default '',
  created_by  text,
  created_at  timestamptz not null default now(),
  released_at timestamptz
);

-- The outbox: written in the same transaction as the alarm change that caused it. [docs/guarantees.md]
create table if not exists notifications (
  id              text primary key,
  alarm_id        bigint not null references alarms(id) on delete cascade,
  route_id        text,
  channel         text not null,
  target          jsonb not null,
  event_type      text not null,
  purpose         text not null default 'event',
  payload         jsonb not null,
  state           text not null,
  attempts        int not null default 0,
  next_attempt_at timestamptz not null,
  locked_until    timestamptz,
  created_at      timestamptz not null,
  delivered_at    timestamptz,
  last_status     int,
  last_error      text
);
create index if not exists notifications_due on notifications (next_attempt_at) where state in ('pending', 'sending');
create index if not exists notifications_alarm on notifications (alarm_id, created_at);

create table if not exists notification_attempts (
  id               bigserial primary key,
  notification_id  text not null references notifications(id) on delete cascade,
  at               timestamptz not null,
  ok               boolean not null,
  status           int,
  latency_ms       int not null,
  error            text
);
create index if not exists notification_attempts_n on notification_attempts (notification_id, id);
