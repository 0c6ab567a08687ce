// Wires the rule engine to stored readings, the alarm store, the notifier and the scheduler.
import { RuleEngine } from '../../alerts/engine/rule-engine.ts';
import type { Alarm, Reading } from '../../alerts/types.ts';
import { orgTags, withOrg } from '../auth/orgs.ts';
import type { AppContext } from '../context.ts';
import { StuckBucketWatch } from '../devices/stuck-buckets.ts';
import { schedulePeriodic } from '../scheduler/cron.ts';
import type { Leadership } from '../scheduler/leader.ts';
import { createAlarmFeature } from './alarm-feature.ts';
import { gaugeSnapshot } from './alarm-read-store.ts';
import type { AlarmChangeKind, AlarmService } from './alarm-service.ts';
import { alarmTrace } from './alarm-trace.ts';
import { hydrateEngine, pgEngineStateSource } from './engine-hydration.ts';
import { Notifier } from './notifier.ts';
import { runReminders } from './reminders.ts';
import type { RouteService } from './route-service.ts';
import type { RuleService } from './rule-service.ts';

export interface Alerting {
  alarms: AlarmService;
  rules: RuleService;
  routes: RouteService;
  engine: RuleEngine;
  notifier?: Notifier;
  onReadings(rs: Reading[]): void;
  /** one scheduler pass: engine timers and offline, reminders, escalations, silence ends */
  tick(): Promise<void>;
  /** resolves when queued transitions are stored and the outbox is idle */
  settle(): Promise<void>;
  /** graceful drain: no new scheduler pass, the running one finished, the scheduler lock released */
  handOver(): Promise<void>;
  stop(): Promise<void>;
}

export interface AlertingOptions {
  now: () => number;
  evaluate: boolean;
  notify: boolean;
  schedule: boolean;
  /** every stored change of an alarm (the web console's live board) */
  onAlarmChanged?: (a: Alarm, kind: AlarmChangeKind) => void;
  /** with several instances on one PostgreSQL only the leader runs reminders, escalations, silence ends */
  leader?: Leadership;
}

export async function startAlerting(ctx: AppContext, o: AlertingOptions): Promise<Alerting> {
  const log = ctx.log.child({ component: 'alerting' });
  const notifier = o.notify ? new Notifier(ctx.db, ctx.config, log.child({ component: 'notifier' }), ctx.metrics, { now: o.now }) : undefined;
  const feature = createAlarmFeature(ctx.db, ctx.devices, {
    publicUrl: ctx.config.publicUrl,
    now: o.now,
    alarmHooks: {
      onTransition: (t, a) => {
        ctx.metrics.transitions.inc({ kind: t.kind });
        log.info(
          { alarmId: a.id, ruleId: t.ruleId, deviceId: t.deviceId, kind: t.kind, severity: t.severity, value: t.value, mode: t.mode },
          'alarm transition',
        );
      },
      onChanged: o.onAlarmChanged,
      delivery: notifier,
    },
    onRulesChanged: () => syncRules(),
  });
  const { alarms, rules, routes } = feature;
  const failed = (e: unknown) => log.error({ err: (e as Error).message }, 'storing alarm transitions failed');
  const engine = new RuleEngine();
  // A rule of one municipality applies only to that municipality's devices: the engine sees the org as a
  // reserved tag on every device and as an extra tag condition of every rule. [services/auth/orgs.ts]
  // An edited rule re-judges its open alarms at once; what that yields is stored like any transition.
  const syncRules = () => {
    const ts = engine.setRules(
      rules
        .list()
        .filter((r) => r.enabled !== false)
        .map(({ org, ...r }) => ({ ...r, scope: withOrg(r.scope, org) })),
      o.now(),
    );
    if (ts.length && o.evaluate) alarms.apply(ts).catch(failed);
  };
  // a device re-tagged out of a rule's scope: that rule's open alarm is closed (device_changed), not left to decay
  const syncDevices = () => {
    const ts = engine.setDevices(
      ctx.devices.list().map((d) => ({ id: d.id, name: d.name, tags: orgTags(d), location: d.location })),
      o.now(),
    );
    if (ts.length && o.evaluate) alarms.apply(ts).catch(failed);
  };
  ctx.devices.onChange(syncDevices);
  await feature.load();
  syncDevices();
  syncRules();
  if (o.evaluate) await hydrate(ctx, alarms, rules, engine, o.now);
  ctx.metrics.probe = {
    snapshot: () => gaugeSnapshot(ctx.db),
  };
  // An open alarm shows the live value (the 1 h sum still rising, the current level), not only the value
  // at its last transition; written every 2 s at most. The events keep the values at each transition.
  engine.onOpenValue = (ruleId, deviceId, value) => alarms.noteValue(ruleId, deviceId, value);
  const valueTimer = setInterval(() => void alarms.flushValues().catch((e) => log.warn({ err: (e as Error).message }, 'live alarm values not written')), 2000);
  valueTimer.unref();
  notifier?.start();

  const stuckBuckets = new StuckBucketWatch(ctx.db, () => ctx.devices.list());
  let ticking: Promise<void> | undefined;
  let rerun = false;
  let handedOver = false;
  // the leader wakes when the next reminder, escalation or silence end falls due (computed from the stored
  // rows), not only at the next 5 s pass
  let dueTimer: NodeJS.Timeout | undefined;
  const wakeAt = (at: number | undefined) => {
    clearTimeout(dueTimer);
    dueTimer = undefined;
    if (at === undefined || handedOver) return;
    const ms = at - o.now();
    if (ms >= 5000) return; // the regular pass comes first
    dueTimer = setTimeout(() => void tick().catch((e) => log.warn({ err: (e as Error).message }, 'scheduler pass failed')), Math.max(200, ms + 20));
    dueTimer.unref();
  };
  const pass = async () => {
    const t0 = performance.now();
    if (o.evaluate) await alarms.apply(engine.tick(o.now())).catch(failed);
    // The engine's timers (offline, decaying sums, for/clear) run where readings are evaluated (every
    // instance: the store makes their transitions idempotent); reminders, escalations and silence ends only
    // where the scheduler role runs and, among several instances, on the one holding the scheduler lock.
    const lead = o.schedule && !handedOver && (o.leader?.isLeader() ?? true);
    const due = lead ? await runReminders(ctx.db, alarms, routes, ctx.devices, o.now) : undefined;
    if (due?.enqueued) notifier?.kick();
    if (lead && o.leader) wakeAt(due?.nextDueAt);
    if (lead) await stuckBuckets.run(o.now()).catch((e) => log.warn({ err: (e as Error).message }, 'stuck-bucket check failed'));
    log.debug({ ms: Math.round(performance.now() - t0), enqueued: due?.enqueued ?? 0 }, 'scheduler pass');
  };
  const tick = async (): Promise<void> => {
    if (ticking) {
      // never overlap, but a pass asked for meanwhile (a takeover, a due time) runs right after
      rerun = true;
      return ticking;
    }
    ticking = pass().finally(() => {
      ticking = undefined;
      if (rerun && !handedOver) {
        rerun = false;
        void tick().catch((e) => log.warn({ err: (e as Error).message }, 'scheduler pass failed'));
      }
    });
    return ticking;
  };
  const task =
    o.schedule || o.evaluate
      ? schedulePeriodic('*/5 * * * * *', 'alarm-scheduler', () => tick().catch((e) => log.warn({ err: (e as Error).message }, 'scheduler pass failed')), log)
      : undefined;
  // a new leader catches up at once instead of at the next 5 s mark: a reminder that fell due while the
  // old leader was dying goes out within the takeover time (the lock is asked for every second)
  o.leader?.onChange((lead) => {
    if (lead) void tick().catch((e) => log.warn({ err: (e as Error).message }, 'scheduler pass failed'));
    else wakeAt(undefined);
  });
  const handOver = async () => {
    if (handedOver) return;
    handedOver = true;
    wakeAt(undefined);
    await task?.stop();
    await ticking?.catch(() => {});
    await o.leader?.stop();
  };

  return {
    alarms,
    rules,
    routes,
    engine,
    notifier,
    onReadings(rs) {
      if (!o.evaluate) return;
      const now = o.now();
      const ts = [];
      for (const r of rs) ts.push(...engine.onReading(r, now));
      if (!ts.length) return;
      if (alarmTrace.on) for (const t of ts) alarmTrace.on('evaluated', t.deviceId);
      alarms.apply(ts).catch(failed);
    },
    tick,
    handOver,
    async settle() {
      await alarms.flushValues().catch(() => {});
      await alarms.apply([]);
      await alarms.idle();
      notifier?.kick();
      await notifier?.drain();
    },
    async stop() {
      clearInterval(valueTimer);
      await alarms.flushValues().catch(() => {});
      await handOver();
      // transitions still queued are stored and handed to this notifier first, which then finishes them
      await alarms.idle().catch(() => {});
      await notifier?.stop();
    },
  };
}

/** A restart mid-storm continues: windows refilled from the store, open alarms and last uplinks restored. */
async function hydrate(ctx: AppContext, alarms: AlarmService, rules: RuleService, engine: RuleEngine, now: () => number) {
  const orphans = await alarms.closeOrphans();
  if (orphans) ctx.log.info({ closed: orphans }, 'alarms of deleted or disabled rules and deleted devices closed');
  const n = await hydrateEngine(engine, rules.list(), pgEngineStateSource(ctx.db), now());
  ctx.log.info(n, 'rule engine hydrated');
}
