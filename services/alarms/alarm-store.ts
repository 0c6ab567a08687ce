// Alarm transitions → one transaction: the alarm row, its event history, and an outbox row for every
// matching route target. [CONTRACT 5] "written to an outbox in the same transaction"
import crypto from 'node:crypto';
import type { NotificationEventType, NotificationPayload, Target } from '../../alerts/channels/types.ts';
import { type Route, routeMatches, silenceMatches, type SilenceMatch } from '../../alerts/routing/route-schema.ts';
import { OFFLINE_METRIC, type Rule } from '../../alerts/rules/rule-types.ts';
import { METRIC_UNITS, type Alarm, type Transition } from '../../alerts/types.ts';
import type { Queryable } from '../db/db.ts';
import type { Device } from '../devices/device-registry.ts';
import { type AlarmRow, toAlarm } from './alarm-rows.ts';

export interface StoreDeps {
  rule(id: string): Rule | undefined;
  device(id: string): Device | undefined;
  routes(): Route[];
  publicUrl: string;
  now(): number;
}

export type AlarmEventKind = 'firing' | 'escalated' | 'deescalated' | 'acknowledged' | 'resolved';

export const newNotificationId = () => `msg_${crypto.randomBytes(12).toString('base64url')}`;

export function unitFor(t: { metric: string }): string {
  return t.metric === OFFLINE_METRIC ? 's' : (METRIC_UNITS[t.metric] ?? '');
}

export function alarmMessage(a: Alarm, deviceName: string): string {
  const v = a.unit === 's' ? `keine Daten seit ${Math.round(a.value / 60)} min` : `${round(a.value)} ${a.unit}${a.window ? ` in ${a.window}` : ''} (Schwelle ${round(a.threshold)} ${a.unit})`;
  return `${a.ruleName}: ${v} an ${deviceName} (${a.deviceId})`;
}
const round = (v: number) => String(Math.round(v * 100) / 100).replace('.', ',');

export function payloadFor(a: Alarm, type: NotificationEventType, device: Device | undefined, publicUrl: string, at: Date): NotificationPayload {
  const deviceName = device?.name ?? a.deviceId;
  return {
    type,
    timestamp: at.toISOString(),
    alarm: { ...a, deviceName, location: device?.location ?? null, message: alarmMessage(a, deviceName), url: `${publicUrl}/api/v1/alarms/${a.id}` },
  };
}

export class AlarmStore {
  constructor(private deps: StoreDeps) {}

  /** Applies one engine transition. Returns the alarm, or undefined when nothing changed. */
  async apply(tx: Queryable, t: Transition): Promise<{ alarm: Alarm; notified: number } | undefined> {
    const rule = this.deps.rule(t.ruleId);
    const at = new Date(Math.max(t.at, 0));
    const now = new Date(this.deps.now());
    let row: AlarmRow | undefined;
    if (t.kind === 'firing') {
      const r = await tx.query<AlarmRow>(
        `insert into alarms(rule_id, rule_name, device_id, metric, severity, state, value, threshold, unit, window_label, mode, started_at, updated_at)
         values ($1,$2,$3,$4,$5,'firing',$6,$7,$8,$9,$10,$11,$12)
         on conflict (rule_id, device_id) where state <> 'resolved' do nothing returning *`,
        [t.ruleId, rule?.name ?? t.ruleId, t.deviceId, t.metric, t.severity, t.value, t.threshold, unitFor(t), t.window ?? null, t.mode, at, now],
      );
      row = r.rows[0];
      // Already open (restart, or another instance): continue it as a severity change if there is one.
      if (!row) return this.applyChange(tx, { ...t, kind: 'escalated' }, now);
    } else if (t.kind === 'resolved') {
      const r = await tx.query<AlarmRow>(
        `update alarms set state='resolved', resolved_at=$3, updated_at=$4, value=$5 where rule_id=$1 and device_id=$2 and state <> 'resolved' returning *`,
        [t.ruleId, t.deviceId, at, now, t.value],
      );
      row = r.rows[0];
    } else {
      return this.applyChange(tx, t, now);
    }
    if (!row) return undefined;
    return this.record(tx, toAlarm(row), t.kind, at, {});
  }

  private async applyChange(tx: Queryable, t: Transition, now: Date) {
    const cur = await tx.query<AlarmRow>(`select * from alarms where rule_id=$1 and device_id=$2 and state <> 'resolved' for update`, [t.ruleId, t.deviceId]);
    const c = cur.rows[0];
    if (!c || c.severity === t.severity) return undefined;
    const up = ['extreme', 'severe', 'moderate', 'minor'].indexOf(t.severity) < ['extreme', 'severe', 'moderate', 'minor'].indexOf(c.severity);
    // A higher severity needs a new acknowledgement: the danger changed.
    const r = await tx.query<AlarmRow>(
      `update alarms set severity=$2, value=$3, threshold=$4, window_label=$5, updated_at=$6
         ${up ? ", state='firing', acknowledged_at=null, acknowledged_by=null" : ''} where id=$1 returning *`,
      [c.id, t.severity, t.value, t.threshold, t.window ?? null, now],
    );
    return this.record(tx, toAlarm(r.rows[0]), up ? 'escalated' : 'deescalated', new Date(t.at), {});
  }

  async acknowledge(tx: Queryable, id: string, actor: string, comment?: string): Promise<Alarm | 'not_found' | 'resolved'> {
    const cur = await tx.query<AlarmRow>('select * from alarms where id = $1 for update', [Number(id)]);
    const c = cur.rows[0];
    if (!c) return 'not_found';
    if (c.state === 'resolved') return 'resolved';
    if (c.state === 'acknowledged') return toAlarm(c);
    const now = new Date(this.deps.now());
    const r = await tx.query<AlarmRow>(`update alarms set state='acknowledged', acknowledged_at=$2, acknowledged_by=$3, updated_at=$2 where id=$1 returning *`, [c.id, now, actor]);
    const a = toAlarm(r.rows[0]);
    await this.record(tx, a, 'acknowledged', now, { actor, comment });
    return a;
  }

  /** History event + outbox rows for every route that wants this event. */
  private async record(tx: Queryable, a: Alarm, kind: AlarmEventKind, at: Date, extra: { actor?: string; comment?: string }) {
    await tx.query('insert into alarm_events(alarm_id, at, kind, severity, value, threshold, actor, comment) values ($1,$2,$3,$4,$5,$6,$7,$8)', [
      Number(a.id),
      at,
      kind,
      a.severity,
      a.value,
      a.threshold,
      extra.actor ?? null,
      extra.comment ?? null,
    ]);
    const notified = a.mode === 'shadow' ? 0 : await this.enqueueForRoutes(tx, a, kind, at);
    return { alarm: a, notified };
  }

  private async enqueueForRoutes(tx: Queryable, a: Alarm, kind: AlarmEventKind, at: Date): Promise<number> {
    const device = this.deps.device(a.deviceId);
    const tags = device?.tags ?? {};
    const prior = await tx.query<{ route_id: string }>('select distinct route_id from notifications where alarm_id = $1', [Number(a.id)]);
    const told = new Set(prior.rows.map((r) => r.route_id));
    const held = await this.silenced(tx, a, tags);
    let n = 0;
    for (const route of this.deps.routes()) {
      if (!route.notifyOn.includes(kind)) continue;
      if (!routeMatches(route, a, tags, told.has(route.id))) continue;
      // An all-clear or acknowledgement for an alarm this route never heard of is noise.
      if ((kind === 'resolved' || kind === 'acknowledged' || kind === 'deescalated') && !told.has(route.id)) continue;
      const payload = payloadFor(a, `alarm.${kind}`, device, this.deps.publicUrl, at);
      for (const target of route.targets) {
        await enqueue(tx, a, route.id, target, payload, 'event', held, this.deps.now());
        n++;
      }
    }
    return n;
  }

  private async silenced(tx: Queryable, a: Alarm, tags: Record<string, string>): Promise<boolean> {
    const now = new Date(this.deps.now());
    const r = await tx.query<{ match: SilenceMatch }>('select match from silences where starts_at <= $1 and ends_at > $1', [now]);
    return r.rows.some((s) => silenceMatches(s.match, a, tags));
  }
}

export async function enqueue(tx: Queryable, a: Alarm, routeId: string, target: Target, payload: NotificationPayload, purpose: string, held: boolean, now: number) {
  await tx.query(
    `insert into notifications(id, alarm_id, route_id, channel, target, event_type, purpose, payload, state, next_attempt_at, created_at)
     values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10)`,
    [newNotificationId(), Number(a.id), routeId, target.type, JSON.stringify(target), payload.type, purpose, JSON.stringify(payload), held ? 'held' : 'pending', new Date(now)],
  );
}
