// Storm grouping in the outbox (issue 16). A route with `groupBy` does not send an alarm's first notification
// at once: the row waits in the outbox (state 'grouped') beside a notification_groups row that says when the
// group goes out. Sending is one transaction per group: per target, one waiting row becomes the carrier
// (pending, with group_info) and the others 'merged' into it; the notifier then delivers the carrier like any
// other row, rendering the message from the carrier and its merged rows. A kill -9 at any point leaves either
// the waiting rows or the carrier: nothing lost, nothing sent twice. [migrations/016] [docs/api.md Routes]
import crypto from 'node:crypto';
import type { GroupMessage } from '../../alerts/channels/group-text.ts';
import type { NotificationPayload, Target } from '../../alerts/channels/types.ts';
import { groupOf, type Route } from '../../alerts/routing/route-schema.ts';
import { type Severity, severityRank } from '../../alerts/types.ts';
import { ORG_TAG } from '../auth/orgs.ts';
import type { Db, Queryable } from '../db/db.ts';

/** Targets whose messages are grouped; others (a voice call) go out one by one as before. */
const GROUPABLE: ReadonlySet<string> = new Set(['sms', 'email', 'webhook']);

/** An outbox item as alarm-store builds it (only what grouping reads). */
interface Item {
  alarm: { ruleId: string; ruleName: string };
  routeId: string;
  target: Target;
}

/** What the carrier row of a grouped message knows about its group (notifications.group_info). */
export interface GroupInfo {
  label: string;
  key: string;
  earlier: number;
}

/** Does this route hold a first notification to this target for its group (see holdForGroups)? */
export const groupsFirst = (route: Route | undefined, target: Target): boolean => !!route?.groupBy?.length && GROUPABLE.has(target.type);

/**
 * Takes the firing notifications of grouping routes out of `items`: `send` goes out as before, `waiting` is to
 * be stored as waiting rows of its group (same transaction). Escalations and every other event are never held
 * back. A group that has been quiet for longer than its interval and has `groupWait` 0 sends the first alarm
 * at once, as its own message (today's SMS), and collects the next ones for `groupInterval`.
 */
export async function holdForGroups<I extends Item>(
  tx: Queryable,
  items: I[],
  o: { kind: string; held: boolean; now: number; route: (id: string) => Route | undefined; tags: Record<string, string> },
): Promise<{ send: I[]; waiting: Array<{ groupId: string; items: I[] }> }> {
  const send: I[] = [];
  const waiting: Array<{ groupId: string; items: I[] }> = [];
  if (o.kind !== 'firing' || o.held || !items.length) return { send: items, waiting };
  const byRoute = new Map<string, I[]>();
  for (const i of items) {
    const r = o.route(i.routeId);
    if (!groupsFirst(r, i.target)) send.push(i);
    else byRoute.set(i.routeId, [...(byRoute.get(i.routeId) ?? []), i]);
  }
  for (const [routeId, its] of byRoute) {
    const route = o.route(routeId)!;
    const g = groupOf(route, its[0].alarm, o.tags, ORG_TAG)!;
    const now = new Date(o.now);
    // the group row, created once; locked for this transaction so concurrent alarms of one group queue here
    await tx.query(
      `insert into notification_groups(id, route_id, group_key, label, created_at) values ($1, $2, $3, $4, $5)
       on conflict (route_id, group_key) do nothing`,
      [`grp_${crypto.randomBytes(9).toString('base64url')}`, routeId, g.key, g.label, now],
    );
    const group = (
      await tx.query<{ id: string; flush_at: Date | null; last_flushed_at: Date | null }>(
        'select id, flush_at, last_flushed_at from notification_groups where route_id = $1 and group_key = $2 for update',
        [routeId, g.key],
      )
    ).rows[0];
    const last = group.last_flushed_at ? new Date(group.last_flushed_at).getTime() : undefined;
    const active = last !== undefined && o.now < last + g.intervalMs;
    let flushAt: number;
    if (group.flush_at) flushAt = new Date(group.flush_at).getTime();
    else if (active) flushAt = last + g.intervalMs;
    else if (g.waitMs === 0) {
      // a fresh group without wait: this alarm goes out now, as its own message; the next ones are collected
      await tx.query('update notification_groups set label = $2, last_flushed_at = $3, sent_alarms = 1 where id = $1', [group.id, g.label, now]);
      send.push(...its);
      continue;
    } else flushAt = o.now + g.waitMs;
    await tx.query(
      `update notification_groups set label = $2, flush_at = $3,
              sent_alarms = case when $4::boolean then sent_alarms else 0 end where id = $1`,
      [group.id, g.label, new Date(flushAt), active || !!group.flush_at],
    );
    waiting.push({ groupId: group.id, items: its });
  }
  return { send, waiting };
}

/**
 * Sends the groups that are due: per group one transaction (rows locked, SKIP LOCKED so instances share the
 * work). Returns how many carrier rows became due for delivery.
 */
export async function flushDueGroups(db: Db, now: number, limit = 50): Promise<number> {
  const due = await db.query<{ id: string }>('select id from notification_groups where flush_at <= $1 order by flush_at limit $2', [new Date(now), limit]);
  let carriers = 0;
  for (const { id } of due.rows) carriers += await db.transaction((tx) => flushGroup(tx, id, now));
  return carriers;
}

async function flushGroup(tx: Queryable, groupId: string, now: number): Promise<number> {
  const g = await tx.query<{ label: string; group_key: string; sent_alarms: number }>(
    'select label, group_key, sent_alarms from notification_groups where id = $1 and flush_at <= $2 for update skip locked',
    [groupId, new Date(now)],
  );
  const group = g.rows[0];
  if (!group) return 0; // another instance is sending it, or did
  const all = await tx.query<{ id: string; alarm_id: string; target: string; severity: Severity; value: number | null; ended: boolean }>(
    `select n.id, n.alarm_id::text as alarm_id, n.target::text as target,
            a.severity, a.value, a.state in ('resolved', 'closed') as ended
       from notifications n join alarms a on a.id = n.alarm_id
      where n.group_id = $1 and n.state = 'grouped' order by n.created_at, n.id for update of n`,
    [groupId],
  );
  // an alarm that ended while it waited: its all-clear already went out, an alarm message after it would mislead
  const ended = all.rows.filter((r) => r.ended).map((r) => r.id);
  if (ended.length) await tx.query(`update notifications set state = 'suppressed' where id = any($1::text[])`, [ended]);
  const rows = { rows: all.rows.filter((r) => !r.ended) };
  const byTarget = new Map<string, typeof rows.rows>();
  for (const r of rows.rows) byTarget.set(r.target, [...(byTarget.get(r.target) ?? []), r]);
  const alarms = new Set(rows.rows.map((r) => r.alarm_id));
  for (const members of byTarget.values()) {
    // the carrier: the highest alarm; its row shows the message on that alarm's page
    const carrier = [...members].sort((x, y) => severityRank(y.severity) - severityRank(x.severity) || (y.value ?? 0) - (x.value ?? 0))[0];
    const info: GroupInfo = { label: group.label, key: group.group_key, earlier: group.sent_alarms };
    await tx.query(`update notifications set state = 'pending', next_attempt_at = $2, group_info = $3 where id = $1`, [
      carrier.id,
      new Date(now),
      members.length > 1 ? JSON.stringify(info) : null,
    ]);
    const others = members.filter((m) => m.id !== carrier.id).map((m) => m.id);
    if (others.length) await tx.query(`update notifications set state = 'merged', merged_into = $2 where id = any($1::text[])`, [others, carrier.id]);
  }
  await tx.query('update notification_groups set flush_at = null, last_flushed_at = $2, sent_alarms = sent_alarms + $3 where id = $1', [
    groupId,
    new Date(now),
    alarms.size,
  ]);
  return byTarget.size;
}

/**
 * The message a carrier row stands for: its own alarm and those merged into it, each with its severity, value
 * and state as they are now (an alarm that escalated while it waited is named at its new level).
 */
export async function groupMessageOf(db: Queryable, row: { id: string; payload: NotificationPayload; group_info?: GroupInfo | null }) {
  if (!row.group_info) return undefined;
  const r = await db.query<{ id: string; alarm_id: string; payload: NotificationPayload; severity: string; value: number | null; state: string }>(
    `select n.id, n.alarm_id::text as alarm_id, n.payload, a.severity, a.value, a.state
       from notifications n join alarms a on a.id = n.alarm_id
      where n.id = $1 or n.merged_into = $1 order by (n.id = $1) desc, n.created_at, n.id`,
    [row.id],
  );
  const alarms = r.rows.map(
    (x): NotificationPayload => ({
      ...x.payload,
      alarm: {
        ...x.payload.alarm,
        severity: x.severity as NotificationPayload['alarm']['severity'],
        value: x.value ?? x.payload.alarm.value,
        state: x.state as NotificationPayload['alarm']['state'],
      },
    }),
  );
  const message: GroupMessage = { label: row.group_info.label, earlier: row.group_info.earlier, alarms };
  return { message, key: row.group_info.key, members: r.rows.map((x) => ({ id: x.id, alarmId: x.alarm_id })) };
}
