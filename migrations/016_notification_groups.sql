-- Storm grouping (issue 16): a route with `groupBy` collects the first notifications of alarms of one group
-- (same rule, tag value or municipality) and sends them as one message. The waiting notifications stay in the
-- outbox (state 'grouped', group_id); the group row says when they go out. Sending the group is one
-- transaction that turns one waiting row per target into the carrier (state 'pending', group_info) and the
-- others into 'merged' (merged_into = the carrier), so a kill -9 loses and duplicates nothing.
create table if not exists notification_groups (
  id               text primary key,
  route_id         text not null,
  group_key        text not null,
  label            text not null,
  -- when the collected notifications go out; null: nothing waiting
  flush_at         timestamptz,
  last_flushed_at  timestamptz,
  -- alarms the group's earlier messages named (the next one says "weitere")
  sent_alarms      int not null default 0,
  created_at       timestamptz not null,
  unique (route_id, group_key)
);
create index if not exists notification_groups_due on notification_groups (flush_at) where flush_at is not null;

alter table notifications add column if not exists group_id text;
alter table notifications add column if not exists merged_into text;
alter table notifications add column if not exists group_info jsonb;
create index if not exists notifications_grouped on notifications (group_id) where state = 'grouped';
create index if not exists notifications_merged on notifications (merged_into) where merged_into is not null;
