-- MQTT credentials: subscribe rights (none unless given), the municipality a credential belongs to (null: the
-- whole installation), when its password last changed (so other processes drop its connections), and which
-- credential owns each client id (the first one that used it).
alter table mqtt_credentials add column if not exists subscribe text[] not null default '{}';
alter table mqtt_credentials add column if not exists org text;
alter table mqtt_credentials add column if not exists updated_at timestamptz not null default now();
create table if not exists mqtt_client_ids (
  client_id  text primary key,
  username   text not null references mqtt_credentials(username) on delete cascade,
  first_seen timestamptz not null default now(),
  last_seen  timestamptz not null default now()
);
create index if not exists mqtt_client_ids_username on mqtt_client_ids (username);
