// Alarm transitions → one transaction: the alarm row, its event history, and an outbox row for every
// matching route target. [docs/formats.md] "written to an outbox in the same transaction"
import crypto from 'node:crypto';
import { localTime } from '../../alerts/channels/sms-text.ts';
import type { NotificationEventType, NotificationPayload, Target } from '../../alerts/channels/types.ts';
import { alarmTitle, attributionOf, CLOSED_WORDS, endedPhrase, isForecast, metricPhrase } from '../../alerts/channels/wording.ts';
import { type Route, routeMatches, type SilenceMatch } from '../../alerts/routing/route-schema.ts';
import { OFFLINE_METRIC, type Rule } from '../../alerts/rules/rule-types.ts';
import { type Alarm, type ClosedReason, severityRank, type Transition, unitOf } from '../../alerts/types.ts';
import { DEFAULT_ORG, orgTags, withOrg } from '../auth/orgs.ts';
import type { Queryable } from '../db/db.ts';
import type { Device } from '../devices/device-registry.ts';
import { INSTANCE_ID } from '../scheduler/membership.ts';
import { type AlarmRow, OPEN_SQL, toAlarm } from './alarm-rows.ts';
import { type GroupInfo, groupsFirst, holdForGroups } from './group-store.ts';
import { gapComment, recipients } from './recipients.ts';
import { activeSilenceIdsSql, activeSilencesJsonSql, activeSilencesSql, silenced } from './silence-store.ts';

export interface StoreDeps {
  rule(id: string): Rule | undefined;
  device(id: string): Device | undefined;
  routes(): (Route & { org?: string })[];
  publicUrl: string;
  now(): number;
  /** true when this process runs the notifier and delivers new notifications itself */
  deliversHere?(): boolean;
}

export type AlarmEventKind = 'firing' | 'escalated' | 'deescalated' | 'acknowledged' | 'resolved' | 'closed' | 'escalated_unacknowledged' | 'stale';

/** Events that end or follow an alarm: only routes that were told about the alarm hear them. */
const FOLLOW_UPS: ReadonlySet<AlarmEventKind> = new Set(['resolved', 'acknowledged', 'deescalated', 'closed', 'stale']);

/** Does a route want this event? A route that wants the all-clear also wants to hear that an alarm was
 *  closed without one (routes saved before `closed` existed list only `resolved`); one that wants an alarm
 *  also wants to hear that its sensor went silent while it holds. */
function wants(notifyOn: readonly string[], kind: AlarmEventKind): boolean {
  return notifyOn.includes(kind) || (kind === 'closed' && notifyOn.includes('resolved')) || (kind === 'stale' && notifyOn.includes('firing'));
}

/** The targets of an alarm's earlier notifications, as recipients.ts's `targetKey`s (select list; $1 = the alarm id). */
const TOLD_TARGETS_SQL = `array(select distinct route_id || ' ' || channel || ' ' || coalesce(target->>'url', target->>'to', '') from notifications where alarm_id = $1)`;

export const newNotificationId = () => `msg_${crypto.randomBytes(12).toString('base64url')}`;

export function unitFor(t: { metric: string }): string {
  return t.metric === OFFLINE_METRIC ? 's' : (unitOf(t.metric) ?? '');
}

export function alarmMessage(a: Alarm, deviceName: string, type?: NotificationEventType): string {
  const m = type === 'alarm.resolved' ? endedPhrase(a) : metricPhrase(a);
  const v = [m.what, m.threshold].filter(Boolean).join(' ');
  return `${alarmTitle(a)} – ${a.ruleName}: ${v} an ${deviceName} (${a.deviceId})`;
}
/** A closing says so first: the alarm ended by a change of configuration, not because the danger is over. */
function messageFor(a: Alarm, type: NotificationEventType, deviceName: string): string {
  const m = alarmMessage(a, deviceName, type);
  if (type === 'alarm.stale') return `SENSOR STILL: ${m}`;
  return type === 'alarm.closed' ? `BEENDET (${CLOSED_WORDS[a.closedReason ?? 'rule_changed']}): ${m}` : m;
}

export function payloadFor(a: Alarm, type: NotificationEventType, device: Device | undefined, publicUrl: string, at: Date): NotificationPayload {
  const deviceName = device?.name ?? a.deviceId;
  return {
    type,
    timestamp: at.toISOString(),
    alarm: {
      ...a,
      title: alarmTitle(a),
      deviceName,
      location: device?.location ?? null,
      message: messageFor(a, type, deviceName),
      url: `${publicUrl}/api/v1/alarms/${a.id}`,
      ...(attributionOf(a) && { attribution: attributionOf(a) }),
    },
  };
}

/** A radar nowcast's expected time on a notification: `expectedAt`, and the same "ab ca. HH:MM" (Berlin) at
 *  the end of `alarm.message` as in the SMS, so a receiver showing the message alone still says when. [issue 20] */
export function setExpectedAt(p: NotificationPayload, expectedAt: string | undefined): void {
  if (!expectedAt) return;
  p.alarm.expectedAt = expectedAt;
  const hhmm = localTime(expectedAt);
  if (hhmm) p.alarm.message = `${p.alarm.message}, ab ca. ${hhmm}`;
}

/** the nowcast's "not within 120 min" value of forecast_minutes_to_threshold [services/dwd/nowcast.ts] */
const NOT_EXPECTED_MIN = 999;
const EXPECTING_KINDS: ReadonlySet<AlarmEventKind> = new Set(['firing', 'escalated', 'deescalated']);

/**
 * A radar nowcast alarm says when the catchment's depth is expected to be reached: the run's base time plus its
 * forecast_minutes_to_threshold, read from the same run (stored in the same commit as the alarm's own reading,
 * which the engine evaluates after the commit). Undefined when that run does not expect it within 120 min, or
 * when the newest run is older than `maxAgeMs` before `at` (a reminder long after the runs stopped). [issue 20]
 */
export async function expectedAtOf(db: Queryable, a: Pick<Alarm, 'deviceId' | 'metric'>, at: Date, maxAgeMs?: number): Promise<string | undefined> {
  if (!isForecast(a)) return undefined;
  const r = await db.query<{ time: Date; value: number }>(
    `select time, value from readings where device_id = $1 and metric = 'forecast_minutes_to_threshold' and time <= $2 and time > $3
      order by time desc limit 1`,
    [a.deviceId, at, new Date(maxAgeMs === undefined ? 0 : at.getTime() - maxAgeMs)],
  );
  const row = r.rows[0];
  const min = row ? Number(row.value) : Number.NaN;
  if (!row || !Number.isFinite(min) || min < 0 || min >= NOT_EXPECTED_MIN) return undefined;
  return new Date(new Date(row.time).getTime() + min * 60_000).toISOString();
}

export class AlarmStore {
  constructor(private deps: StoreDeps) {}

  /** Applies one engine transition. Returns the alarm, or undefined when nothing changed. */
  async apply(tx: Queryable, t: Transition): Promise<Applied | undefined> {
    const rule = this.deps.rule(t.ruleId);
    const at = new Date(Math.max(t.at, 0));
    const now = new Date(this.deps.now());
    let row: AlarmRow | undefined;
    if (t.kind === 'firing') {
      const r = await tx.query<AlarmRow>(
        // the alarm belongs to the device's municipality for good, whatever later happens to the device id [issue 11]
        `insert into alarms(rule_id, rule_name, device_id, metric, severity, state, value, threshold, unit, window_label, mode, started_at, updated_at, org)
         values ($1,$2,$3,$4,$5,'firing',$6,$7,$8,$9,$10,$11,$12, coalesce((select org from devices where id = $3), '${DEFAULT_ORG}'))
         on conflict (rule_id, device_id) where ${OPEN_SQL} do nothing returning *`,
        // startedAt: the reading time at which the condition began, not when it was processed
        [
          t.ruleId,
          rule?.name ?? t.ruleId,
          t.deviceId,
          t.metric,
          t.severity,
          t.value,
          t.threshold,
          unitFor(t),
          t.window ?? null,
          t.mode,
          new Date(Math.max(t.since ?? t.at, 0)),
          now,
        ],
      );
      row = r.rows[0];
      // Already open (restart, or another instance): continue it as a severity change if there is one.
      if (!row) return this.applyChange(tx, { ...t, kind: 'escalated' }, now);
    } else if (t.kind === 'stale') {
      return this.markStale(tx, t, at);
    } else if (t.kind === 'resolved') {
      const r = await tx.query<AlarmRow>(
        // the all-clear's figure, threshold and window are those of one level, the one in force [docs/formats.md SMS]
        `update alarms set state='resolved', resolved_at=$3, updated_at=$4, value=$5, threshold=$6, window_label=$7 where rule_id=$1 and device_id=$2 and ${OPEN_SQL} returning *`,
        [t.ruleId, t.deviceId, at, now, t.value, t.threshold, t.window ?? null],
      );
      row = r.rows[0];
    } else if (t.kind === 'closed') {
      const [closed] = await this.close(tx, 'rule_id=$1 and device_id=$2', [t.ruleId, t.deviceId], t.closedReason ?? 'rule_changed', at);
      return closed;
    } else {
      return this.applyChange(tx, t, now);
    }
    if (!row) return undefined;
    return this.record(tx, toAlarm(row), t.kind, at, {});
  }

  private async applyChange(tx: Queryable, t: Transition, now: Date) {
    const cur = await tx.query<AlarmRow>(`select * from alarms where rule_id=$1 and device_id=$2 and ${OPEN_SQL} for update`, [t.ruleId, t.deviceId]);
    const c = cur.rows[0];
    if (!c || c.severity === t.severity) return undefined;
    const up = severityRank(t.severity) > severityRank(c.severity);
    // A higher severity needs a new acknowledgement: the danger changed.
    const r = await tx.query<AlarmRow>(
      `update alarms set severity=$2, value=$3, threshold=$4, window_label=$5, updated_at=$6, mode=$7
         ${up ? ", state='firing', acknowledged_at=null, acknowledged_by=null" : ''} where id=$1 returning *`,
      [c.id, t.severity, t.value, t.threshold, t.window ?? null, now, t.mode],
    );
    return this.record(tx, toAlarm(r.rows[0]), up ? 'escalated' : 'deescalated', new Date(t.at), {});
  }

  /**
   * The rule's current mode decides for its open alarms. An alarm recorded in shadow that goes live is told to
   * its routes at once, as `firing` at its current severity, so nobody waits for the next change of level.
   */
  async switchMode(tx: Queryable, ruleId: string, mode: 'active' | 'shadow', actor: string): Promise<Applied[]> {
    const now = new Date(this.deps.now());
    const r = await tx.query<AlarmRow>(
      `update alarms set mode=$2, updated_at=$3 where rule_id=$1 and state in ('firing', 'acknowledged') and mode <> $2 returning *`,
      [ruleId, mode, now],
    );
    const out: Applied[] = [];
    if (mode !== 'active') return out;
    for (const row of r.rows) out.push(await this.record(tx, toAlarm(row), 'firing', now, { actor, comment: 'rule switched from shadow to active' }));
    return out;
  }

  /** The device of an open alarm went silent: the alarm holds as it is; one `stale` event says so. */
  private async markStale(tx: Queryable, t: Transition, at: Date): Promise<Applied | undefined> {
    const cur = await tx.query<AlarmRow>(`select * from alarms where rule_id=$1 and device_id=$2 and ${OPEN_SQL} for update`, [t.ruleId, t.deviceId]);
    const c = cur.rows[0];
    if (!c) return undefined;
    const last = t.lastReadingAt === undefined ? undefined : new Date(t.lastReadingAt);
    const comment = last ? `no reading since ${last.toISOString()}` : 'no reading';
    return this.record(tx, toAlarm(c), 'stale', at, { comment, lastReadingAt: last?.toISOString() });
  }

  /** Open alarms whose rule was deleted or disabled, or whose device was deleted, while no process evaluated. */
  async closeOrphans(tx: Queryable): Promise<Applied[]> {
    return [
      ...(await this.close(tx, 'not exists (select 1 from rules r where r.id = alarms.rule_id)', [], 'rule_deleted')),
      ...(await this.close(tx, "exists (select 1 from rules r where r.id = alarms.rule_id and r.definition->>'enabled' = 'false')", [], 'rule_disabled')),
      ...(await this.close(tx, 'not exists (select 1 from devices d where d.id = alarms.device_id)', [], 'device_deleted')),
    ];
  }

  /**
   * Ends open alarms because their configuration changed: state `closed` with the reason, one `closed` event
   * and one notification per route that was told about the alarm. Never an all-clear. [docs/api.md Alarms]
   */
  async close(tx: Queryable, where: string, params: unknown[], reason: ClosedReason, at = new Date(this.deps.now())): Promise<Applied[]> {
    const n = params.length;
    const r = await tx.query<AlarmRow>(
      `update alarms set state='closed', closed_at=$${n + 1}, closed_reason=$${n + 2}, updated_at=$${n + 3} where ${where} and ${OPEN_SQL} returning *`,
      [...params, at, reason, new Date(this.deps.now())],
    );
    const out: Applied[] = [];
    for (const row of r.rows) out.push(await this.record(tx, toAlarm(row), 'closed', at, { comment: reason }));
    return out;
  }

  /** Records that nobody acknowledged the alarm in time (the escalation's notifications are the caller's). */
  async noteUnacknowledged(tx: Queryable, a: Alarm, at: Date, comment: string) {
    await this.noteEvent(tx, a, 'escalated_unacknowledged', at, comment);
  }

  /** An event in the alarm's history that is no change of state (e.g. `oncall_gap`: nobody on duty by plan). */
  async noteEvent(tx: Queryable, a: Alarm, kind: string, at: Date, comment: string) {
    await tx.query('insert into alarm_events(alarm_id, at, kind, severity, value, threshold, comment) values ($1::bigint,$2,$3,$4,$5,$6,$7)', [
      a.id,
      at,
      kind,
      a.severity,
      a.value,
      a.threshold,
      comment,
    ]);
  }

  async acknowledge(tx: Queryable, id: string, actor: string, comment?: string): Promise<Applied | 'not_found' | 'resolved' | 'closed'> {
    const cur = await tx.query<AlarmRow>('select * from alarms where id = $1::bigint for update', [id]);
    const c = cur.rows[0];
    if (!c) return 'not_found';
    if (c.state === 'resolved' || c.state === 'closed') return c.state;
    if (c.state === 'acknowledged') return { alarm: toAlarm(c), notified: 0, claimed: [] };
    const now = new Date(this.deps.now());
    const r = await tx.query<AlarmRow>(
      `update alarms set state='acknowledged', acknowledged_at=$2, acknowledged_by=$3, updated_at=$2 where id=$1 returning *`,
      [c.id, now, actor],
    );
    return this.record(tx, toAlarm(r.rows[0]), 'acknowledged', now, { actor, comment });
  }

  /**
   * History event + outbox rows for every route that wants this event: two statements. The event insert
   * rides along with reading who was told before and which silences hold now.
   */
  private async record(
    tx: Queryable,
    a: Alarm,
    kind: AlarmEventKind,
    at: Date,
    extra: { actor?: string; comment?: string; lastReadingAt?: string },
  ): Promise<Applied> {
    const now = this.deps.now();
    const r = await tx.query<{ told: string[]; told_to: string[]; sil: SilenceMatch[] }>(
      `with ev as (insert into alarm_events(alarm_id, at, kind, severity, value, threshold, actor, comment) values ($1,$2,$3,$4,$5,$6,$7,$8))
       select array(select distinct route_id from notifications where alarm_id = $1) as told, ${TOLD_TARGETS_SQL} as told_to,
              coalesce((select json_agg(s.match) from (${activeSilencesSql('$9')}) s), '[]'::json) as sil`,
      [Number(a.id), at, kind, a.severity, a.value, a.threshold, extra.actor ?? null, extra.comment ?? null, new Date(now)],
    );
    if (a.mode === 'shadow') return { alarm: a, notified: 0, claimed: [] };
    const device = this.deps.device(a.deviceId);
    // the reserved org tag: a route or silence of one municipality never matches another's alarm [orgs.ts]
    const tags = orgTags(device);
    const held = silenced(r.rows[0]?.sil ?? [], a, tags);
    const expectedAt = EXPECTING_KINDS.has(kind) ? await expectedAtOf(tx, a, at) : undefined;
    const told = new Set(r.rows[0]?.told ?? []);
    const toldTo = new Set(r.rows[0]?.told_to ?? []);
    const { items, gaps } = this.outboxItems(a, kind, at, { device, tags, told, toldTo, expectedAt, lastReadingAt: extra.lastReadingAt, now });
    for (const comment of gaps) await this.noteEvent(tx, a, 'oncall_gap', at, comment);
    // storm grouping: a grouping route's first notification of an alarm waits for its group [group-store.ts]
    const { send, waiting } = await holdForGroups(tx, items, { kind, held, now, route: (id) => this.deps.routes().find((r) => r.id === id), tags });
    for (const w of waiting) await enqueueMany(tx, w.items, { held, now, claim: false, groupId: w.groupId });
    const claimed = await enqueueMany(tx, send, { held, now, claim: !held && !!this.deps.deliversHere?.() });
    return { alarm: a, notified: items.length, claimed };
  }

  /** The outbox items of one change of an alarm: every route that wants it, its targets on duty now. Pure. */
  private outboxItems(
    a: Alarm,
    kind: AlarmEventKind,
    at: Date,
    o: {
      device: Device | undefined;
      tags: Record<string, string>;
      told: ReadonlySet<string>;
      toldTo: ReadonlySet<string>;
      expectedAt?: string;
      lastReadingAt?: string;
      now: number;
    },
  ): { items: OutboxItem[]; gaps: string[] } {
    const items: OutboxItem[] = [];
    const gaps: string[] = [];
    for (const route of this.deps.routes()) {
      if (!wants(route.notifyOn, kind)) continue;
      if (!routeMatches({ ...route, match: withOrg(route.match, route.org ?? DEFAULT_ORG) }, a, o.tags, o.told.has(route.id))) continue;
      // An all-clear, closing or acknowledgement for an alarm this route never heard of is noise.
      if (FOLLOW_UPS.has(kind) && !o.told.has(route.id)) continue;
      const payload = payloadFor(a, `alarm.${kind}`, o.device, this.deps.publicUrl, at);
      if (o.lastReadingAt) payload.lastReadingAt = o.lastReadingAt;
      setExpectedAt(payload, o.expectedAt);
      // the on-call plan: who of the route's targets is on duty now [issue 16]
      const who = recipients(route.targets, { at: o.now, type: payload.type, routeId: route.id, followUp: FOLLOW_UPS.has(kind), told: o.toldTo });
      if (who.gap) gaps.push(gapComment(route.name));
      for (const target of who.targets) items.push({ alarm: a, routeId: route.id, target, payload, purpose: 'event' });
    }
    return { items, gaps };
  }

  /**
   * New alarms in one statement, in autocommit: the alarm rows, their `firing` (and `oncall_gap`) events and
   * their outbox rows commit together or not at all — one round trip for a lone alarm and for a storm alike.
   * The outbox rows are built here before the statement (a new alarm was told nothing yet); the statement
   * fills in the alarm ids. It writes nothing unless the active silences are still those the rows were
   * judged against (`silences`, else it answers with the current ones). Transitions it cannot take — an
   * alarm of that rule and device already open (the insert conflicts), a forecast alarm (its expected time
   * is read from the store), a grouping route's first notification (its group row is locked) — are handed
   * back in `rest`, to be applied one by one as before. [docs/guarantees.md]
   */
  async applyNewFirings(
    db: Queryable,
    ts: Transition[],
    silences: { ids: string[]; matches: SilenceMatch[] },
  ): Promise<{ applied: Array<{ t: Transition } & Applied>; rest: Transition[]; silences?: { ids: string[]; matches: SilenceMatch[] } }> {
    const now = this.deps.now();
    const nowDate = new Date(now);
    const rest: Transition[] = [];
    const claimHere = !!this.deps.deliversHere?.();
    type Prepared = { t: Transition; row: AlarmRow; items: OutboxItem[]; ids: string[]; gaps: string[]; held: boolean };
    const prepared: Prepared[] = [];
    for (const t of ts) {
      const rule = this.deps.rule(t.ruleId);
      const device = this.deps.device(t.deviceId);
      const row: AlarmRow = {
        id: 0,
        rule_id: t.ruleId,
        rule_name: rule?.name ?? t.ruleId,
        device_id: t.deviceId,
        metric: t.metric,
        severity: t.severity,
        state: 'firing',
        value: t.value,
        threshold: t.threshold,
        unit: unitFor(t),
        window_label: t.window ?? null,
        mode: t.mode,
        // startedAt: the reading time at which the condition began, not when it was processed
        started_at: new Date(Math.max(t.since ?? t.at, 0)),
        updated_at: nowDate,
        acknowledged_at: null,
        acknowledged_by: null,
        resolved_at: null,
      };
      const a = toAlarm(row);
      if (isForecast(a)) {
        rest.push(t);
        continue;
      }
      const tags = orgTags(device);
      const at = new Date(Math.max(t.at, 0));
      const { items, gaps } =
        a.mode === 'shadow' ? { items: [], gaps: [] } : this.outboxItems(a, 'firing', at, { device, tags, told: NONE, toldTo: NONE, now });
      if (
        items.some((i) =>
          groupsFirst(
            this.deps.routes().find((r) => r.id === i.routeId),
            i.target,
          ),
        )
      ) {
        rest.push(t);
        continue;
      }
      const held = a.mode !== 'shadow' && silenced(silences.matches, a, tags);
      prepared.push({ t, row, items, ids: items.map(() => newNotificationId()), gaps, held });
    }
    if (!prepared.length) return { applied: [], rest };
    const ev = prepared.flatMap((p) => [
      { p, kind: 'firing', comment: null as string | null },
      ...p.gaps.map((comment) => ({ p, kind: 'oncall_gap', comment })),
    ]);
    const nx = prepared.flatMap((p) => p.items.map((item, k) => ({ p, item, id: p.ids[k] })));
    const stateOf = (p: Prepared) => (p.held ? 'held' : claimHere ? 'sending' : 'pending');
    const r = await db.query<{ ok: boolean; sil: { id: string; match: SilenceMatch }[]; rows: AlarmRow[] | null }>(
      `with ok as (select ${activeSilenceIdsSql('$1::timestamptz')} = $2::text[] as ok),
       a as (insert into alarms(rule_id, rule_name, device_id, metric, severity, state, value, threshold, unit, window_label, mode, started_at, updated_at, org)
             select x.r, x.rn, x.d, x.m, x.sev, 'firing', x.v, x.th, x.u, x.w, x.mo, to_timestamp(x.st / 1000), $1::timestamptz,
                    coalesce((select org from devices where id = x.d), '${DEFAULT_ORG}')
             from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::float8[], $10::text[], $11::text[], $12::text[], $13::float8[])
               with ordinality as x(r, rn, d, m, sev, v, th, u, w, mo, st, ord)
             where (select ok from ok)
             order by x.ord
             on conflict (rule_id, device_id) where ${OPEN_SQL} do nothing returning *),
       ev as (insert into alarm_events(alarm_id, at, kind, severity, value, threshold, comment)
             select a.id, to_timestamp(e.at / 1000), e.kind, a.severity, a.value, a.threshold, e.c
             from unnest($14::text[], $15::text[], $16::float8[], $17::text[], $18::text[]) with ordinality as e(r, d, at, kind, c, ord)
             join a on a.rule_id = e.r and a.device_id = e.d order by e.ord),
       n as (insert into notifications(id, alarm_id, route_id, channel, target, event_type, purpose, payload, state, attempts, locked_until, next_attempt_at, created_at, claimed_by, lease_until)
             select y.id, a.id, y.route, y.ch, y.tg, $31::text, 'event',
                    jsonb_set(jsonb_set(y.p, '{alarm,id}', to_jsonb(a.id::text)), '{alarm,url}', to_jsonb($24::text || a.id::text)),
                    y.st, case when y.st = 'sending' then 1 else 0 end, case when y.st = 'sending' then $25::timestamptz end, $1::timestamptz, $1::timestamptz,
                    case when y.st = 'sending' then $26::text end, case when y.st = 'sending' then $27::timestamptz end
             from unnest($19::text[], $20::text[], $21::text[], $22::text[], $23::jsonb[], $28::text[], $29::jsonb[], $30::text[]) as y(id, r, d, route, tg, st, p, ch)
             join a on a.rule_id = y.r and a.device_id = y.d)
       select (select ok from ok) as ok,
              ${activeSilencesJsonSql('$1::timestamptz')} as sil,
              (select json_agg(a) from a) as rows`,
      [
        nowDate,
        silences.ids,
        prepared.map((p) => p.row.rule_id),
        prepared.map((p) => p.row.rule_name),
        prepared.map((p) => p.row.device_id),
        prepared.map((p) => p.row.metric),
        prepared.map((p) => p.row.severity),
        prepared.map((p) => p.row.value),
        prepared.map((p) => p.row.threshold),
        prepared.map((p) => p.row.unit),
        prepared.map((p) => p.row.window_label),
        prepared.map((p) => p.row.mode),
        prepared.map((p) => p.row.started_at.getTime()),
        ev.map((e) => e.p.row.rule_id),
        ev.map((e) => e.p.row.device_id),
        ev.map((e) => Math.max(e.p.t.at, 0)),
        ev.map((e) => e.kind),
        ev.map((e) => e.comment),
        nx.map((x) => x.id),
        nx.map((x) => x.p.row.rule_id),
        nx.map((x) => x.p.row.device_id),
        nx.map((x) => x.item.routeId),
        nx.map((x) => JSON.stringify(x.item.target)),
        `${this.deps.publicUrl}/api/v1/alarms/`,
        new Date(now + FRESH_CLAIM_MS),
        INSTANCE_ID,
        new Date(now + ATTEMPT_LEASE_MS),
        nx.map((x) => stateOf(x.p)),
        nx.map((x) => JSON.stringify(x.item.payload)),
        nx.map((x) => x.item.target.type),
        'alarm.firing',
      ],
    );
    const res = r.rows[0];
    if (!res.ok) return { applied: [], rest, silences: { ids: res.sil.map((x) => x.id).sort(), matches: res.sil.map((x) => x.match) } };
    const stored = new Map((res.rows ?? []).map((row) => [`${row.rule_id}\u0000${row.device_id}`, row]));
    const applied: Array<{ t: Transition } & Applied> = [];
    for (const p of prepared) {
      const row = stored.get(`${p.row.rule_id}\u0000${p.row.device_id}`);
      // already open (a restart, another instance): continued as a change of severity, as before
      if (!row) {
        rest.push(p.t);
        continue;
      }
      const alarm = toAlarm({ ...row, started_at: new Date(row.started_at), updated_at: new Date(row.updated_at) });
      const url = `${this.deps.publicUrl}/api/v1/alarms/${alarm.id}`;
      const claimed: ClaimedNotification[] = [];
      if (!p.held && claimHere)
        p.items.forEach((item, k) => {
          const payload = { ...item.payload, alarm: { ...item.payload.alarm, id: alarm.id, url } };
          claimed.push({ id: p.ids[k], alarm_id: Number(alarm.id), route_id: item.routeId, target: item.target, payload, attempts: 1, created_at: nowDate });
        });
      applied.push({ t: p.t, alarm, notified: p.items.length, claimed });
    }
    return { applied, rest };
  }
}

const NONE: ReadonlySet<string> = new Set();

export interface OutboxItem {
  alarm: Alarm;
  routeId: string;
  target: Target;
  payload: NotificationPayload;
  purpose: 'event' | 'reminder' | 'escalation';
}

/** An outbox row this process claimed at insert time and delivers right after the commit. */
export interface ClaimedNotification {
  id: string;
  alarm_id: number;
  route_id: string | null;
  target: Target;
  payload: NotificationPayload;
  attempts: number;
  created_at: Date;
  /** SMS: the position in SMS_PROVIDERS this attempt uses (0 at insert; moved on by failover) */
  provider_index?: number;
  /** the carrier of a grouped message: its group; the alarms merged into it are sent with it [group-store.ts] */
  group_info?: GroupInfo | null;
}

export interface Applied {
  alarm: Alarm;
  notified: number;
  claimed: ClaimedNotification[];
}

/** How long a notification claimed at insert stays ours before another worker (or we, after a crash) may retry it. */
export const FRESH_CLAIM_MS = 30_000;

/**
 * How long one delivery attempt may still be on its way to the receiver: the webhook deadline (10 s) and a
 * margin. Until then no other instance sends the row again, not even when the sender's heartbeat stopped (it
 * may be alive but cut off from the database, or stalled). [docs/operations.md Notifications]
 */
export const ATTEMPT_LEASE_MS = 12_000;

/**
 * One statement for all outbox rows of a change. With `claim`, the rows are inserted already claimed by this
 * process (state 'sending', a short lock), saving the notifier's claim round trip on the alarm's hot path;
 * if the process dies before delivering, the lock expires and any worker picks them up. [docs/formats.md]
 */
export async function enqueueMany(
  tx: Queryable,
  items: OutboxItem[],
  o: { held: boolean; now: number; claim: boolean; groupId?: string },
): Promise<ClaimedNotification[]> {
  if (!items.length) return [];
  const ids = items.map(() => newNotificationId());
  // 'grouped': waits in the outbox until its storm group goes out [group-store.ts]
  const state = o.held ? 'held' : o.groupId ? 'grouped' : o.claim ? 'sending' : 'pending';
  await tx.query(
    `insert into notifications(id, alarm_id, route_id, channel, target, event_type, purpose, payload, state, attempts, locked_until, next_attempt_at, created_at, claimed_by, group_id, lease_until)
     select id, alarm_id, route_id, channel, target, event_type, purpose, payload, $9, $10, $11, $12, $12, $13, $14, $15
     from unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::text[], $8::jsonb[])
       as t(id, alarm_id, route_id, channel, target, event_type, purpose, payload)`,
    [
      ids,
      items.map((i) => Number(i.alarm.id)),
      items.map((i) => i.routeId),
      items.map((i) => i.target.type),
      items.map((i) => JSON.stringify(i.target)),
      items.map((i) => i.payload.type),
      items.map((i) => i.purpose),
      items.map((i) => JSON.stringify(i.payload)),
      state,
      o.claim ? 1 : 0,
      o.claim ? new Date(o.now + FRESH_CLAIM_MS) : null,
      new Date(o.now),
      o.claim ? INSTANCE_ID : null,
      o.groupId ?? null,
      o.claim ? new Date(o.now + ATTEMPT_LEASE_MS) : null,
    ],
  );
  if (!o.claim) return [];
  return items.map((i, k) => ({
    id: ids[k],
    alarm_id: Number(i.alarm.id),
    route_id: i.routeId,
    target: i.target,
    payload: i.payload,
    attempts: 1,
    created_at: new Date(o.now),
  }));
}

/** One outbox row (reminders, escalations), never claimed at insert: the notifier's poll picks it up. */
export async function enqueue(
  tx: Queryable,
  a: Alarm,
  routeId: string,
  target: Target,
  payload: NotificationPayload,
  purpose: OutboxItem['purpose'],
  held: boolean,
  now: number,
) {
  await enqueueMany(tx, [{ alarm: a, routeId, target, payload, purpose }], { held, now, claim: false });
}
