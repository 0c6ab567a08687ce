-- Municipalities sharing one installation (interkommunale Kooperation): every device, rule, route and silence
-- belongs to one org ('default' until someone uses orgs); an API token with an org sees and changes only
-- that org's rows, a token without one (null) the whole installation.
alter table devices  add column if not exists org text not null default 'default';
alter table rules    add column if not exists org text not null default 'default';
alter table routes   add column if not exists org text not null default 'default';
alter table silences add column if not exists org text not null default 'default';
alter table api_tokens add column if not exists org text;
create index if not exists devices_org on devices (org);
