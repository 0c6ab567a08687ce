// Step 3: the alarm side (rule engine, alarm store, notifier, scheduler), for the roles that need it.
import { type Alerting, startAlerting } from '../alarms/alerting.ts';
import type { AppContext } from '../context.ts';
import { soleLeader, startLeaderElection } from '../scheduler/leader.ts';
import { startMembership } from '../scheduler/membership.ts';
import type { LiveFeed } from '../web/feed.ts';
import type { Stops } from './stops.ts';

export async function startAlarms(ctx: AppContext, live: LiveFeed, now: () => number, stops: Stops): Promise<Alerting | undefined> {
  const roles = ctx.config.roles;
  if (!(roles.has('ingest') || roles.has('api') || roles.has('notifier') || roles.has('scheduler'))) return undefined;
  // several instances on one PostgreSQL elect one scheduler; the embedded store has one process only
  const leader = roles.has('scheduler') ? (ctx.config.databaseUrl ? startLeaderElection(ctx.config.databaseUrl, ctx.log) : soleLeader()) : undefined;
  if (leader) ctx.schedulerLeader = () => leader.isLeader();
  const alerting = await startAlerting(ctx, {
    leader,
    now,
    evaluate: roles.has('ingest') || roles.has('broker'),
    notify: roles.has('notifier'),
    schedule: roles.has('scheduler'),
    onAlarmChanged: (a, kind) => live.alarm(a, kind),
  });
  ctx.alarms = alerting.alarms;
  ctx.rules = alerting.rules;
  ctx.routes = alerting.routes;
  // after the notifier stopped (stops run newest first): its claims are given back by saying goodbye
  // (and the peer journal's rows: a survivor replays those of an instance whose heartbeat stopped)
  if (roles.has('notifier') || (roles.has('ingest') && ctx.config.upstream?.shareGroup)) {
    const membership = startMembership(ctx.db, ctx.log.child({ component: 'membership' }));
    stops.push(() => membership.stop());
  }
  stops.push(() => alerting.stop());
  return alerting;
}
