-- Instances sharing this database: each writes a heartbeat every second. A notification claimed by an
-- instance whose heartbeat stopped (killed, cut off) is taken by another at once, not only when its claim's
-- lock expires. [docs/operations.md]
create table if not exists instances (
  id            text primary key,
  host          text not null,
  started_at    timestamptz not null default now(),
  heartbeat_at  timestamptz not null default now()
);

alter table notifications add column if not exists claimed_by text;
