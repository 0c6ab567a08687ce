// Alarms: applies the engine's transitions (one transaction each, in order), acknowledgements, closing on
// configuration changes, and hands what was enqueued to the notifier. Rules are in rule-service.ts, routes
// in route-service.ts, silences in silence-store.ts.

import type { SilenceMatch } from '../../alerts/routing/route-schema.ts';
import type { Alarm, ClosedReason, Transition } from '../../alerts/types.ts';
import { audit } from '../audit-store.ts';
import type { Db, Queryable } from '../db/db.ts';
import type { DeviceRegistry } from '../devices/device-registry.ts';
import { type AlarmQuery, alarmDetail, alarmOrg, listAlarms, writeLiveValues } from './alarm-read-store.ts';
import { type AlarmEventKind, AlarmStore, type Applied, type ClaimedNotification, expectedAtOf } from './alarm-store.ts';
import { alarmTrace } from './alarm-trace.ts';
import type { OrgRoute } from './route-store.ts';
import type { OrgRule } from './rule-store.ts';

export type AlarmChangeKind = Exclude<AlarmEventKind, 'escalated_unacknowledged'>;

/** Who hears of stored alarm changes; given at construction, so each hop can be followed from here. */
export interface AlarmHooks {
  /** every stored transition (metrics, log line) */
  onTransition?: (t: Transition, a: Alarm) => void;
  /** every stored change of an alarm, acknowledgements included (the web console's live board) */
  onChanged?: (a: Alarm, kind: AlarmChangeKind) => void;
  /** this process's notifier, when it delivers here: it gets the rows claimed at insert after their commit,
   *  and a kick for the rest */
  delivery?: { kick(): void; deliverNow(rows: ClaimedNotification[]): void };
}

/** What the alarm side looks up while it stores a transition: the rule (its name, mode) and the routes to
 *  match. Functions, because the rule service is built after the alarm service it closes alarms through. */
export interface AlarmLookups {
  rule(id: string): OrgRule | undefined;
  routes(): OrgRoute[];
}

export class AlarmService {
  readonly store: AlarmStore;
  private readonly transitionHook: (t: Transition, a: Alarm) => void;
  private readonly onChanged: (a: Alarm, kind: AlarmChangeKind) => void;
  private readonly onNotify: () => void;
  private readonly onClaimed: (rows: ClaimedNotification[]) => void;

  constructor(
    private db: Db,
    devices: DeviceRegistry,
    lookups: AlarmLookups,
    readonly publicUrl: string,
    readonly now: () => number,
    hooks: AlarmHooks = {},
  ) {
    this.transitionHook = hooks.onTransition ?? (() => {});
    this.onChanged = hooks.onChanged ?? (() => {});
    this.onNotify = () => hooks.delivery?.kick();
    this.onClaimed = (rows) => hooks.delivery?.deliverNow(rows);
    this.store = new AlarmStore({
      rule: lookups.rule,
      device: (id) => devices.get(id),
      routes: lookups.routes,
      publicUrl,
      now,
      deliversHere: () => hooks.delivery !== undefined,
    });
  }

  // ---- closing on configuration changes (inside the caller's transaction; afterClose after its commit) ----
  /** A rule was disabled or deleted: its open alarms end. */
  closeForRule(tx: Queryable, ruleId: string, reason: 'rule_disabled' | 'rule_deleted'): Promise<Applied[]> {
    return this.closeOpen(tx, 'rule_id = $1', [ruleId], reason);
  }

  /** Inside the device's delete transaction, before the device leaves the registry (messages name it). */
  closeForDevice(tx: Queryable, deviceId: string): Promise<Applied[]> {
    return this.closeOpen(tx, 'device_id = $1', [deviceId], 'device_deleted');
  }

  /** A rule switched between shadow and active: its open alarms follow (see AlarmStore.switchMode). */
  switchMode(tx: Queryable, ruleId: string, mode: 'active' | 'shadow', actor: string): Promise<Applied[]> {
    return this.store.switchMode(tx, ruleId, mode, actor);
  }

  private closeOpen(tx: Queryable, where: string, params: unknown[], reason: ClosedReason): Promise<Applied[]> {
    return this.store.close(tx, where, params, reason);
  }

  /** At start: alarms whose rule or device went away while no evaluating process ran are closed, not left open. */
  async closeOrphans(): Promise<number> {
    const closed = await this.db.transaction((tx) => this.store.closeOrphans(tx));
    this.afterClose(closed);
    return closed.length;
  }

  /** After the commit of a close: deliver what was claimed, wake the notifier for the rest. */
  afterClose(closed: Applied[]) {
    for (const c of closed) {
      this.onChanged(c.alarm, 'closed');
      this.transitionHook(
        {
          kind: 'closed',
          ruleId: c.alarm.ruleId,
          deviceId: c.alarm.deviceId,
          metric: c.alarm.metric,
          severity: c.alarm.severity,
          value: c.alarm.value,
          threshold: c.alarm.threshold,
          at: this.now(),
          mode: c.alarm.mode,
          closedReason: c.alarm.closedReason ?? undefined,
        },
        c.alarm,
      );
      if (c.claimed.length) this.onClaimed(c.claimed);
    }
    if (closed.some((c) => c.notified > c.claimed.length)) this.onNotify();
  }

  /** After the commit of a mode switch: deliver what was claimed, wake the notifier for the rest. */
  afterSwitch(switched: Applied[]) {
    for (const a of switched) if (a.claimed.length) this.onClaimed(a.claimed);
    if (switched.some((a) => a.notified > a.claimed.length)) this.onNotify();
  }

  // ---- transitions ----
  private queue: Promise<unknown> = Promise.resolve();
  /** the active silences the last statement saw (their ids, sorted), so new alarms need no read before their write */
  private silences: { ids: string[]; matches: SilenceMatch[] } = { ids: [], matches: [] };

  /**
   * Transitions are applied in order, in the order they were asked for. New alarms (a `firing` whose rule and
   * device have no other transition in this call) are stored together in one statement, a storm's as well as
   * a lone one's; the rest one transaction each, in order. Each stored change is handed on after its commit.
   */
  apply(ts: Transition[]): Promise<void> {
    if (!ts.length) return Promise.resolve();
    const run = async () => {
      const trace = alarmTrace.on;
      if (trace) for (const t of ts) trace('applying', t.deviceId);
      let notified = 0;
      let claimed = 0;
      const stored = (t: Transition, r: Applied) => {
        notified += r.notified;
        this.transitionHook(t, r.alarm);
        this.onChanged(r.alarm, t.kind);
        claimed += r.claimed.length;
        trace?.('stored', t.deviceId);
        if (r.claimed.length) this.onClaimed(r.claimed);
      };
      for (const t of ts) this.liveValues.delete(`${t.ruleId}\u0000${t.deviceId}`);
      const keyOf = (t: Transition) => `${t.ruleId}\u0000${t.deviceId}`;
      const count = new Map<string, number>();
      for (const t of ts) count.set(keyOf(t), (count.get(keyOf(t)) ?? 0) + 1);
      const fresh = ts.filter((t) => t.kind === 'firing' && count.get(keyOf(t)) === 1);
      let rest = new Set<Transition>();
      if (fresh.length) {
        let r = await this.store.applyNewFirings(this.db, fresh, this.silences);
        // a silence began or ended since the last statement: judged again against the current ones
        if (r.silences) {
          this.silences = r.silences;
          r = await this.store.applyNewFirings(this.db, fresh, this.silences);
        }
        for (const a of r.applied) stored(a.t, a);
        rest = new Set(r.silences ? fresh : r.rest);
      }
      for (const t of ts) {
        if (fresh.includes(t) && !rest.has(t)) continue;
        const r = await this.db.transaction((tx) => this.store.apply(tx, t));
        if (r) stored(t, r);
      }
      if (notified > claimed) this.onNotify();
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }
  /** resolves when every queued transition and live value is stored */
  async idle(): Promise<void> {
    await this.queue;
  }

  // ---- live values of open alarms ----
  private liveValues = new Map<string, { ruleId: string; deviceId: string; value: number }>();

  /** Remembers the current value of an open alarm (e.g. the 1 h sum still rising); written by flushValues. */
  noteValue(ruleId: string, deviceId: string, value: number) {
    if (Number.isFinite(value)) this.liveValues.set(`${ruleId}\u0000${deviceId}`, { ruleId, deviceId, value });
  }

  /** One statement for all changed values, in the same queue as the transitions so it never overtakes one. */
  flushValues(): Promise<void> {
    const run = async () => {
      if (!this.liveValues.size) return;
      const vs = [...this.liveValues.values()];
      this.liveValues.clear();
      await writeLiveValues(this.db, vs);
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  // ---- operators ----
  async acknowledge(id: string, actor: string, comment?: string) {
    const r = await this.db.transaction(async (tx) => {
      const a = await this.store.acknowledge(tx, id, actor, comment);
      if (typeof a !== 'string') await audit(tx, actor, 'acknowledge', 'alarm', id, { comment });
      return a;
    });
    if (typeof r === 'string') return r;
    this.onChanged(r.alarm, 'acknowledged');
    if (r.claimed.length) this.onClaimed(r.claimed);
    this.onNotify();
    return r.alarm;
  }

  /** `org`: only that municipality's alarms (the org they fired for, whatever became of the device since). */
  list(q: AlarmQuery): Promise<Alarm[]> {
    return listAlarms(this.db, q);
  }

  /** the municipality of an alarm, undefined when there is no such alarm */
  orgOf(id: string): Promise<string | undefined> {
    return alarmOrg(this.db, id);
  }

  /** a radar nowcast alarm's expected time of the catchment's depth as of `at` (what its notifications said then) */
  expectedAt(a: Pick<Alarm, 'deviceId' | 'metric'>, at: Date): Promise<string | undefined> {
    return expectedAtOf(this.db, a, at);
  }

  /** one alarm with its events and deliveries */
  get(id: string) {
    return alarmDetail(this.db, id);
  }
}
