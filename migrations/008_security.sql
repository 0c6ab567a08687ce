-- Security (issue 11): token expiry and last use; data bound to its municipality, not to a device id.
alter table api_tokens add column if not exists expires_at timestamptz;
alter table api_tokens add column if not exists last_used_at timestamptz;

-- Alarms and rejected uplinks carry the org of their device when they were recorded, so a device id
-- deleted in one municipality and created again in another never shows the first one's history.
alter table alarms add column if not exists org text;
update alarms a set org = coalesce((select d.org from devices d where d.id = a.device_id), 'default') where a.org is null;
alter table rejected_uplinks add column if not exists org text;
update rejected_uplinks r set org = d.org from devices d where d.id = r.device_id and r.org is null;
create index if not exists alarms_org on alarms (org, id desc);
create index if not exists rejected_uplinks_org on rejected_uplinks (org, id desc);

-- A deleted device's id stays with its municipality: readings and uplinks are keyed by device id, so
-- another municipality may not take the id over (it would inherit the readings).
create table if not exists retired_device_ids (
  id         text primary key,
  org        text not null,
  retired_at timestamptz not null default now()
);

-- Who saved a route decides where its webhooks may go (services/alarms/webhook-egress.ts): routes of the
-- default municipality from before this migration were made by installation-wide admins.
alter table routes add column if not exists egress text;
update routes set egress = case when org = 'default' then 'installation' else 'municipality' end where egress is null;
alter table routes alter column egress set default 'municipality';
alter table routes alter column egress set not null;
