-- Failover without a reading left unevaluated or a webhook sent twice by a live instance. [docs/operations.md]

-- Readings an instance committed whose peer-feed message the broker has not confirmed yet, written in the
-- same statement as the readings. A confirmed batch is deleted; the batches of an instance that died are
-- replayed from here into the survivors' rule engines (they drop what they hold already).
create table if not exists peer_journal (
  instance_id   text not null,
  seq           bigint not null,
  committed_at  timestamptz not null default now(),
  readings      jsonb not null,
  primary key (instance_id, seq)
);

-- A delivery attempt's lease: until then the attempt may still be on its way to the receiver, so no other
-- instance sends the row again, even when the sender's heartbeat stopped.
alter table notifications add column if not exists lease_until timestamptz;
