-- Open data (issue 15): a municipality publishes its gauges anonymously only when it says so. One row per
-- org that has ever been configured; an org without a row publishes nothing. A device's `public` overrides the
-- municipality's default (null: follow the municipality, i.e. public once the municipality has open data on).
create table if not exists org_open_data (
  org         text primary key,
  enabled     boolean not null default false,
  license     text not null default 'dl-de/by-2-0',
  publisher   text,
  contact     text,
  updated_at  timestamptz not null default now()
);
alter table devices add column if not exists public boolean;
