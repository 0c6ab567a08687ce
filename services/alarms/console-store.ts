// Read-only figures for the console's rules and routes pages: when a rule last had data to judge and how
// the deliveries of each route target went. The one place these queries live.
import type { Db } from '../db/db.ts';

/** The newest stored reading of these stations (of `metric`, when given): when the rule last had something to judge. */
export async function lastReadingAt(db: Db, deviceIds: string[], metric: string | null): Promise<Date | null> {
  if (deviceIds.length === 0) return null;
  const r = await db.query<{ t: Date | null }>('select max(time) as t from readings where device_id = any($1::text[]) and ($2::text is null or metric = $2)', [
    deviceIds,
    metric,
  ]);
  return r.rows[0]?.t ? new Date(r.rows[0].t) : null;
}

export interface TargetDeliveries {
  routeId: string;
  /** the webhook URL or the phone number */
  to: string;
  delivered: number;
  failed: number;
  open: number;
  lastDeliveredAt: Date | null;
  lastFailedAt: Date | null;
  lastError: string | null;
}

/** Per route and target: deliveries since `since`, the last success and the last failed attempt with its error. */
export async function deliveriesByTarget(db: Db, routeIds: string[], since: Date): Promise<TargetDeliveries[]> {
  if (routeIds.length === 0) return [];
  const r = await db.query<{
    route_id: string;
    to: string;
    delivered: number;
    failed: number;
    open: number;
    last_ok: Date | null;
    last_fail: Date | null;
    last_error: string | null;
  }>(
    `with n as (
       select id, route_id, coalesce(target->>'url', target->>'to', '') as "to", state, delivered_at, created_at
       from notifications where route_id = any($1::text[]) and created_at >= $2)
     select n.route_id, n."to",
       count(*) filter (where n.state = 'delivered')::int as delivered,
       count(*) filter (where n.state = 'failed')::int as failed,
       count(*) filter (where n.state not in ('delivered', 'failed'))::int as open,
       max(n.delivered_at) as last_ok,
       (select max(a.at) from notification_attempts a join n n2 on n2.id = a.notification_id
          where n2.route_id = n.route_id and n2."to" = n."to" and not a.ok) as last_fail,
       (select a.error from notification_attempts a join n n2 on n2.id = a.notification_id
          where n2.route_id = n.route_id and n2."to" = n."to" and not a.ok order by a.at desc limit 1) as last_error
     from n group by n.route_id, n."to"`,
    [routeIds, since],
  );
  return r.rows.map((x) => ({
    routeId: x.route_id,
    to: x.to,
    delivered: x.delivered,
    failed: x.failed,
    open: x.open,
    lastDeliveredAt: x.last_ok ? new Date(x.last_ok) : null,
    lastFailedAt: x.last_fail ? new Date(x.last_fail) : null,
    lastError: x.last_error,
  }));
}

/** Who saved the route decides where its webhooks may go (as the notifier reads it). */
export async function routeEgress(db: Db, routeId: string): Promise<'installation' | 'municipality'> {
  const r = await db.query<{ egress: string }>('select egress from routes where id = $1', [routeId]);
  return r.rows[0]?.egress === 'installation' ? 'installation' : 'municipality';
}
