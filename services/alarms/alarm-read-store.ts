// Alarms as the API, the console and the CAP feed read them: lists, one alarm with its history and
// deliveries, and the live values of open alarms. Writes of transitions are in alarm-store.ts.
import type { Alarm } from '../../alerts/types.ts';
import { DEFAULT_ORG } from '../auth/orgs.ts';
import type { Queryable } from '../db/db.ts';
import { bigintId } from '../db/ids.ts';
import { type AlarmRow, OPEN_SQL, toAlarm } from './alarm-rows.ts';

export interface AlarmQuery {
  state: 'active' | 'all' | 'firing' | 'acknowledged' | 'resolved' | 'closed';
  deviceId?: string;
  ruleId?: string;
  mode?: string;
  limit: number;
  /** only that municipality's alarms (the org they fired for, whatever became of the device since) */
  org?: string | null;
}

export async function listAlarms(q: Queryable, f: AlarmQuery): Promise<Alarm[]> {
  const states = f.state === 'active' ? ['firing', 'acknowledged'] : f.state === 'all' ? ['firing', 'acknowledged', 'resolved', 'closed'] : [f.state];
  const r = await q.query<AlarmRow>(
    `select * from alarms where state = any($1::text[]) and ($2::text is null or device_id = $2) and ($3::text is null or rule_id = $3)
     and ($4::text is null or mode = $4) and ($6::text is null or org = $6) order by id desc limit $5`,
    [states, f.deviceId ?? null, f.ruleId ?? null, f.mode ?? null, f.limit, f.org ?? null],
  );
  return r.rows.map(toAlarm);
}

/** the municipality of an alarm, undefined when there is no such alarm */
export async function alarmOrg(q: Queryable, id: string): Promise<string | undefined> {
  if (!bigintId(id)) return undefined;
  const r = await q.query<{ org: string | null }>('select org from alarms where id = $1::bigint', [id]);
  return r.rows[0] ? (r.rows[0].org ?? DEFAULT_ORG) : undefined;
}

/** Writes the current values of open alarms in one statement (unchanged ones are left alone). */
export async function writeLiveValues(q: Queryable, vs: { ruleId: string; deviceId: string; value: number }[]): Promise<void> {
  await q.query(
    `update alarms a set value = v.value from unnest($1::text[], $2::text[], $3::float8[]) as v(rule_id, device_id, value)
     where a.rule_id = v.rule_id and a.device_id = v.device_id and a.${OPEN_SQL} and a.value is distinct from v.value`,
    [vs.map((v) => v.ruleId), vs.map((v) => v.deviceId), vs.map((v) => v.value)],
  );
}

/** For the /metrics gauges: open active alarms by severity and state, and the outbox backlog by state. */
export async function gaugeSnapshot(q: Queryable) {
  const a = await q.query<{ severity: string; state: string; n: number }>(
    `select severity, state, count(*)::int as n from alarms where ${OPEN_SQL} and mode = 'active' group by 1, 2`,
  );
  // delivered rows are history (merged ones went out inside a grouped message); the rest is the backlog an operator watches
  const o = await q.query<{ state: string; n: number }>(
    "select state, count(*)::int as n from notifications where state not in ('delivered', 'merged') group by 1",
  );
  return { alarms: a.rows, outbox: o.rows };
}

/** One alarm with its events, notifications and their delivery attempts; undefined when there is none. */
export async function alarmDetail(q: Queryable, id: string) {
  if (!bigintId(id)) return undefined;
  const r = await q.query<AlarmRow>('select * from alarms where id = $1::bigint', [id]);
  if (!r.rows[0]) return undefined;
  const ev = await q.query<{
    id: number;
    at: Date;
    kind: string;
    severity: string;
    value: number | null;
    threshold: number | null;
    actor: string | null;
    comment: string | null;
  }>('select * from alarm_events where alarm_id = $1::bigint order by id', [id]);
  const no = await q.query<{
    id: string;
    route_id: string;
    channel: string;
    target: { type: string; url?: string; to?: string };
    event_type: string;
    purpose: string;
    state: string;
    attempts: number;
    created_at: Date;
    delivered_at: Date | null;
    last_status: number | null;
    last_error: string | null;
    handset: string | null;
  }>('select * from notifications where alarm_id = $1::bigint order by created_at, id', [id]);
  const at = await q.query<{
    notification_id: string;
    at: Date;
    ok: boolean;
    status: number | null;
    latency_ms: number;
    error: string | null;
    provider: string | null;
    provider_message_id: string | null;
    report_status: string | null;
    report_at: Date | null;
    report_error: string | null;
  }>('select a.* from notification_attempts a join notifications n on n.id = a.notification_id where n.alarm_id = $1::bigint order by a.id', [id]);
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return {
    ...toAlarm(r.rows[0]),
    org: r.rows[0].org ?? DEFAULT_ORG,
    events: ev.rows.map((e) => ({
      id: e.id,
      at: iso(e.at),
      kind: e.kind,
      severity: e.severity,
      value: e.value,
      threshold: e.threshold,
      actor: e.actor,
      comment: e.comment,
    })),
    notifications: no.rows.map((n) => ({
      id: n.id,
      routeId: n.route_id,
      channel: n.channel,
      // the receiver without its secret
      to: n.target.type === 'webhook' ? n.target.url : n.target.to,
      type: n.event_type,
      purpose: n.purpose,
      state: n.state,
      attempts: at.rows
        .filter((a) => a.notification_id === n.id)
        .map((a) => ({
          at: iso(a.at),
          ok: a.ok,
          status: a.status,
          latencyMs: a.latency_ms,
          error: a.error,
          // SMS: the provider that took it and what its delivery report said [issue 16]
          ...(a.provider
            ? {
                provider: a.provider,
                providerMessageId: a.provider_message_id,
                report: a.report_status ? { status: a.report_status, at: iso(a.report_at), error: a.report_error } : null,
              }
            : {}),
        })),
      createdAt: iso(n.created_at),
      deliveredAt: iso(n.delivered_at),
      lastError: n.last_error,
      // SMS with delivery reports: awaiting, delivered, resent (through the next provider), undelivered
      ...(n.handset ? { handset: n.handset } : {}),
    })),
  };
}
