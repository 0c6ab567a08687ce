// Scheduler work on open alarms: reminders until acknowledged, escalation when nobody acknowledged in time,
// and releasing notifications held by a silence once it ends. [docs/formats.md]

import { formatWindow } from '../../alerts/channels/wording.ts';
import type { Route } from '../../alerts/routing/route-schema.ts';
import { tryParseDuration } from '../../alerts/rules/duration.ts';
import type { Alarm } from '../../alerts/types.ts';
import { orgTags } from '../auth/orgs.ts';
import type { Db, Queryable } from '../db/db.ts';
import type { Device, DeviceRegistry } from '../devices/device-registry.ts';
import { type AlarmRow, toAlarm } from './alarm-rows.ts';
import type { AlarmService } from './alarm-service.ts';
import { enqueue, expectedAtOf, payloadFor, setExpectedAt } from './alarm-store.ts';
import { gapComment, recipients } from './recipients.ts';
import type { RouteService } from './route-service.ts';
import { activeSilences, endedUnreleased, markReleased, nextSilenceEnd, silenced } from './silence-store.ts';

export interface ReminderPass {
  /** notifications enqueued by this pass */
  enqueued: number;
  /** the next time something falls due (a reminder, an escalation, a silence end), from the stored rows */
  nextDueAt?: number;
}

interface Told {
  first: number;
  last: number;
  escalated: boolean;
}

/** What was sent to one route about open alarms, per `alarm/route`: first and last message, escalated or not. */
async function toldOf(q: Queryable, alarmIds: number[], routeId?: string): Promise<Map<string, Told>> {
  const sent = await q.query<{ alarm_id: number; route_id: string; purpose: string; first: Date; last: Date }>(
    `select alarm_id, route_id, purpose, min(created_at) as first, max(created_at) as last from notifications
     where alarm_id = any($1::bigint[]) and ($2::text is null or route_id = $2) group by 1, 2, 3`,
    [alarmIds, routeId ?? null],
  );
  const told = new Map<string, Told>();
  for (const s of sent.rows) {
    const k = `${s.alarm_id}/${s.route_id}`;
    const cur = told.get(k) ?? { first: Infinity, last: 0, escalated: false };
    if (s.purpose === 'escalation') cur.escalated = true;
    else {
      cur.first = Math.min(cur.first, new Date(s.first).getTime());
      cur.last = Math.max(cur.last, new Date(s.last).getTime());
    }
    told.set(k, cur);
  }
  return told;
}

/** When the reminder and the escalation of one alarm on one route fall due (Infinity: never). */
function dueTimes(r: Route, t: Told): { reminder: number; escalation: number } {
  const every = r.repeatEvery ? tryParseDuration(r.repeatEvery) : undefined;
  const after = r.escalate ? tryParseDuration(r.escalate.after) : undefined;
  return {
    reminder: every ? t.last + every : Infinity,
    escalation: r.escalate && after && !t.escalated ? t.first + after : Infinity,
  };
}

/**
 * One pass: whatever is due now is enqueued; the answer says when the next thing falls due, so the leader
 * wakes then instead of at its next fixed pass. Due times come from the stored notifications, so a new leader
 * after a failover computes the same ones. Each alarm is locked and re-read before it is enqueued: two
 * passes at once (two leaders for an instant) enqueue it once. [docs/operations.md Leader election]
 */
export async function runReminders(
  db: Db,
  alarms: AlarmService,
  routeService: RouteService,
  devices: DeviceRegistry,
  clock: () => number,
): Promise<ReminderPass> {
  const now = clock();
  let n = await releaseSilences(db, devices, now);
  let next = await nextSilenceEnd(db, new Date(now));
  const routes = routeService.list().filter((r) => r.enabled && (r.repeatEvery || r.escalate));
  if (!routes.length) return { enqueued: n, nextDueAt: next };
  const open = await db.query<AlarmRow>("select * from alarms where state = 'firing' and mode = 'active'");
  if (!open.rows.length) return { enqueued: n, nextDueAt: next };
  const told = await toldOf(
    db,
    open.rows.map((a) => a.id),
  );
  // A maintenance window holds everything for its alarms, reminders and escalations included; whatever is
  // still due when it ends goes out then. [docs/api.md Endpoints (silences)]
  const silences = await activeSilences(db, new Date(now));
  for (const row of open.rows) {
    const a = toAlarm(row);
    const device = devices.get(a.deviceId);
    if (silenced(silences, a, orgTags(device))) continue;
    for (const r of routes) {
      const t = told.get(`${row.id}/${r.id}`);
      if (!t || t.first === Infinity) continue; // this route was never told about the alarm
      const due = dueTimes(r, t);
      if (due.reminder > now && due.escalation > now) {
        next = Math.min(next ?? Infinity, due.reminder, due.escalation);
        continue;
      }
      n += await db.transaction(async (tx) => {
        // locked and read again: another pass may have enqueued it since the read above
        const still = await tx.query("select 1 from alarms where id = $1 and state = 'firing' and mode = 'active' for update", [row.id]);
        const now2 = await toldOf(tx, [row.id], r.id);
        const t2 = now2.get(`${row.id}/${r.id}`);
        if (!still.rows.length || !t2) return 0;
        return enqueueDue(tx, alarms, a, device, r, dueTimes(r, t2), now);
      });
      const every = r.repeatEvery ? tryParseDuration(r.repeatEvery) : undefined;
      if (every) next = Math.min(next ?? Infinity, now + every);
      if (due.escalation > now) next = Math.min(next ?? Infinity, due.escalation);
    }
  }
  return { enqueued: n, nextDueAt: next === Infinity ? undefined : next };
}

async function enqueueDue(
  tx: Queryable,
  alarms: AlarmService,
  a: Alarm,
  device: Device | undefined,
  r: Route,
  due: { reminder: number; escalation: number },
  now: number,
): Promise<number> {
  let n = 0;
  if (due.reminder <= now) {
    const p = payloadFor(a, 'alarm.reminder', device, alarms.publicUrl, new Date(now));
    // a radar nowcast reminder says when the newest run expects the rain [issue 20]
    setExpectedAt(p, await expectedAtOf(tx, a, new Date(now), 30 * 60_000));
    const who = recipients(r.targets, { at: now, type: p.type, routeId: r.id });
    if (who.gap) await alarms.store.noteEvent(tx, a, 'oncall_gap', new Date(now), gapComment(r.name));
    for (const target of who.targets) await enqueue(tx, a, r.id, target, p, 'reminder', false, now);
    n += who.targets.length;
  }
  if (r.escalate && due.escalation <= now) {
    // its own event type: nobody acknowledged in time; `escalated` means the severity rose [docs/formats.md Webhook]
    const p = payloadFor(a, 'alarm.escalated_unacknowledged', device, alarms.publicUrl, new Date(now));
    p.unacknowledgedFor = r.escalate.after;
    setExpectedAt(p, await expectedAtOf(tx, a, new Date(now), 30 * 60_000));
    const head = `ESKALATION: Alarm ${a.id} seit ${formatWindow(r.escalate.after)} nicht quittiert`;
    p.alarm.message = `${head} – ${p.alarm.message}`;
    await alarms.store.noteUnacknowledged(tx, a, new Date(now), `${head} (Route ${r.name})`);
    const who = recipients(r.escalate.targets, { at: now, type: p.type, routeId: r.id });
    if (who.gap) await alarms.store.noteEvent(tx, a, 'oncall_gap', new Date(now), `${gapComment(r.name)} (Eskalation)`);
    for (const target of who.targets) await enqueue(tx, a, r.id, target, p, 'escalation', false, now);
    n += who.targets.length;
  }
  return n;
}

/** When a silence ends, open alarms get their latest held notification per target; the rest are dropped. */
async function releaseSilences(db: Db, devices: DeviceRegistry, now: number): Promise<number> {
  const ended = await endedUnreleased(db, new Date(now));
  if (!ended.length) return 0;
  let n = 0;
  await db.transaction(async (tx) => {
    const held = await tx.query<{ id: string; alarm_id: number; target: unknown; state: string; a_state: string; device_id: string; rule_id: string }>(
      `select n.id, n.alarm_id, n.target, n.state, a.state as a_state, a.device_id, a.rule_id from notifications n join alarms a on a.id = n.alarm_id
       where n.state = 'held' order by n.created_at desc`,
    );
    const active = await activeSilences(tx, new Date(now));
    const seen = new Set<string>();
    for (const h of held.rows) {
      const tags = orgTags(devices.get(h.device_id));
      if (silenced(active, { deviceId: h.device_id, ruleId: h.rule_id }, tags)) continue; // still silenced
      const k = `${h.alarm_id}/${JSON.stringify(h.target)}`;
      const release = h.a_state !== 'resolved' && h.a_state !== 'closed' && !seen.has(k);
      seen.add(k);
      // A released notification enters the outbox now: its give-up time, and the reminder and escalation
      // timers of its route, count from here, not from when the silence swallowed it.
      if (release) await tx.query(`update notifications set state = 'pending', next_attempt_at = $2, created_at = $2 where id = $1`, [h.id, new Date(now)]);
      else await tx.query(`update notifications set state = 'suppressed' where id = $1`, [h.id]);
      if (release) n++;
    }
    await markReleased(
      tx,
      ended.map((s) => s.id),
      new Date(now),
    );
  });
  return n;
}
