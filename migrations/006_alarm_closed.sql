-- An alarm ended by a change of configuration (rule disabled, deleted or changed, device deleted) is
-- `closed` with its reason, never `resolved`: that state is the all-clear. [docs/warning-logic.md] [docs/api.md]
alter table alarms add column if not exists closed_at timestamptz;
alter table alarms add column if not exists closed_reason text;
-- Still at most one open alarm per (rule, device); a closed one no longer counts as open.
drop index if exists alarms_one_open;
create unique index if not exists alarms_one_open on alarms (rule_id, device_id) where state not in ('resolved', 'closed');
