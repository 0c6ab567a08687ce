-- Reaching responders: acknowledge links in messages, SMS delivery reports with provider failover, and
-- inbound SMS replies. [issue 16]

-- One link per message to a person (SMS, e-mail): PUBLIC_URL/q/<token>. Single use; the alarm's end ends it.
create table if not exists ack_links (
  token            text primary key,
  notification_id  text not null unique references notifications(id) on delete cascade,
  alarm_id         bigint not null references alarms(id) on delete cascade,
  recipient        text not null,
  channel          text not null,
  created_at       timestamptz not null,
  used_at          timestamptz
);
create index if not exists ack_links_alarm on ack_links (alarm_id);

-- Which SMS provider took an attempt, under which message id, and what its delivery report said.
alter table notification_attempts add column if not exists provider text;
alter table notification_attempts add column if not exists provider_message_id text;
alter table notification_attempts add column if not exists report_status text;
alter table notification_attempts add column if not exists report_at timestamptz;
alter table notification_attempts add column if not exists report_error text;
create index if not exists notification_attempts_provider_msg on notification_attempts (provider, provider_message_id)
  where provider_message_id is not null;

-- SMS failover: the position in SMS_PROVIDERS the next attempt uses; until when a delivery report is awaited;
-- what became of the message on the phone (awaiting, delivered, resent, undelivered).
alter table notifications add column if not exists provider_index int not null default 0;
alter table notifications add column if not exists report_due_at timestamptz;
alter table notifications add column if not exists handset text;
create index if not exists notifications_report_due on notifications (report_due_at) where report_due_at is not null;

-- SMS replies ("OK 17"), each with what became of it; a provider's retry of the same message counts once.
create table if not exists inbound_sms (
  id                   bigserial primary key,
  provider             text not null,
  provider_message_id  text,
  sender               text not null,
  body                 text not null,
  received_at          timestamptz not null,
  outcome              text not null,
  alarm_id             bigint
);
create unique index if not exists inbound_sms_once on inbound_sms (provider, provider_message_id) where provider_message_id is not null;
