// Scheduler work on open alarms: reminders until acknowledged, escalation when nobody acknowledged in time,
// and releasing notifications held by a silence once it ends. [docs/formats.md]

import { formatWindow } from '../../alerts/channels/wording.ts';
import { tryParseDuration } from '../../alerts/rules/duration.ts';
import { orgTags } from '../auth/orgs.ts';
import type { Db } from '../db/db.ts';
import type { DeviceRegistry } from '../devices/device-registry.ts';
import { type AlarmRow, toAlarm } from './alarm-rows.ts';
import type { AlarmService } from './alarm-service.ts';
import { enqueue, payloadFor } from './alarm-store.ts';
import { gapComment, recipients } from './recipients.ts';
import type { RouteService } from './route-service.ts';
import { activeSilences, endedUnreleased, markReleased, silenced } from './silence-store.ts';

export async function runReminders(db: Db, alarms: AlarmService, routeService: RouteService, devices: DeviceRegistry, clock: () => number): Promise<number> {
  const now = clock();
  let n = await releaseSilences(db, devices, now);
  const routes = routeService.list().filter((r) => r.enabled && (r.repeatEvery || r.escalate));
  if (!routes.length) return n;
  const open = await db.query<AlarmRow>("select * from alarms where state = 'firing' and mode = 'active'");
  if (!open.rows.length) return n;
  const sent = await db.query<{ alarm_id: number; route_id: string; purpose: string; first: Date; last: Date }>(
    `select alarm_id, route_id, purpose, min(created_at) as first, max(created_at) as last from notifications
     where alarm_id = any($1::bigint[]) group by 1, 2, 3`,
    [open.rows.map((a) => a.id)],
  );
  // A maintenance window holds everything for its alarms, reminders and escalations included; whatever is
  // still due when it ends goes out then. [docs/api.md Endpoints (silences)]
  const silences = await activeSilences(db, new Date(now));
  const key = (a: number, r: string) => `${a}/${r}`;
  const told = new Map<string, { first: number; last: number; escalated: boolean }>();
  for (const s of sent.rows) {
    const k = key(s.alarm_id, s.route_id);
    const cur = told.get(k) ?? { first: Infinity, last: 0, escalated: false };
    if (s.purpose === 'escalation') cur.escalated = true;
    else {
      cur.first = Math.min(cur.first, new Date(s.first).getTime());
      cur.last = Math.max(cur.last, new Date(s.last).getTime());
    }
    told.set(k, cur);
  }
  for (const row of open.rows) {
    const a = toAlarm(row);
    const device = devices.get(a.deviceId);
    if (silenced(silences, a, orgTags(device))) continue;
    for (const r of routes) {
      const t = told.get(key(row.id, r.id));
      if (!t || t.first === Infinity) continue; // this route was never told about the alarm
      await db.transaction(async (tx) => {
        const every = r.repeatEvery ? tryParseDuration(r.repeatEvery) : undefined;
        if (every && now - t.last >= every) {
          const p = payloadFor(a, 'alarm.reminder', device, alarms.publicUrl, new Date(now));
          const who = recipients(r.targets, { at: now, type: p.type, routeId: r.id });
          if (who.gap) await alarms.store.noteEvent(tx, a, 'oncall_gap', new Date(now), gapComment(r.name));
          for (const target of who.targets) await enqueue(tx, a, r.id, target, p, 'reminder', false, now);
          n += who.targets.length;
        }
        const after = r.escalate ? tryParseDuration(r.escalate.after) : undefined;
        if (r.escalate && after && !t.escalated && now - t.first >= after) {
          // its own event type: nobody acknowledged in time; `escalated` means the severity rose [docs/formats.md Webhook]
          const p = payloadFor(a, 'alarm.escalated_unacknowledged', device, alarms.publicUrl, new Date(now));
          p.unacknowledgedFor = r.escalate.after;
          const head = `ESKALATION: Alarm ${a.id} seit ${formatWindow(r.escalate.after)} nicht quittiert`;
          p.alarm.message = `${head} – ${p.alarm.message}`;
          await alarms.store.noteUnacknowledged(tx, a, new Date(now), `${head} (Route ${r.name})`);
          const who = recipients(r.escalate.targets, { at: now, type: p.type, routeId: r.id });
          if (who.gap) await alarms.store.noteEvent(tx, a, 'oncall_gap', new Date(now), `${gapComment(r.name)} (Eskalation)`);
          for (const target of who.targets) await enqueue(tx, a, r.id, target, p, 'escalation', false, now);
          n += who.targets.length;
        }
      });
    }
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
