-- People who use the web console: login with a password (argon2id), a role and a municipality as for API
-- tokens (org null: the whole installation); failed logins lock the account for a while. Sessions are
-- stored hashed, each with its own CSRF token.
create table if not exists users (
  id             bigserial primary key,
  login          text not null unique,
  name           text not null,
  password_hash  text not null,
  role           text not null,
  org            text,
  failed_logins  int not null default 0,
  locked_until   timestamptz,
  created_at     timestamptz not null default now(),
  created_by     text,
  password_changed_at timestamptz not null default now(),
  disabled_at    timestamptz
);

create table if not exists web_sessions (
  id_hash     text primary key,
  user_id     bigint not null references users(id) on delete cascade,
  csrf        text not null,
  created_at  timestamptz not null default now(),
  seen_at     timestamptz not null default now(),
  expires_at  timestamptz not null
);
create index if not exists web_sessions_user on web_sessions (user_id);
