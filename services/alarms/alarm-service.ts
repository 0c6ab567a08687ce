// Rules, routes, silences and alarms as one service over the database; the engine is fed by alerting.ts.
import crypto from 'node:crypto';
import type { Route, RouteBody } from '../../alerts/routing/route-schema.ts';
import { parseRuleInput } from '../../alerts/rules/rule-schema.ts';
import type { Rule, RuleDefinition, RuleIssue } from '../../alerts/rules/rule-types.ts';
import type { Alarm, ClosedReason, Transition } from '../../alerts/types.ts';
import { audit } from '../audit.ts';
import { DEFAULT_ORG } from '../auth/orgs.ts';
import type { Db, Queryable } from '../db/db.ts';
import { bigintId } from '../db/ids.ts';
import type { DeviceRegistry } from '../devices/device-registry.ts';
import { type AlarmRow, OPEN_SQL, toAlarm } from './alarm-rows.ts';
import { type AlarmEventKind, AlarmStore, type Applied, type ClaimedNotification } from './alarm-store.ts';
import type { EgressScope } from './webhook-egress.ts';

export const newId = (prefix: string) => `${prefix}_${crypto.randomBytes(6).toString('hex')}`;

export class RuleInvalid extends Error {
  constructor(readonly issues: RuleIssue[]) {
    super(`invalid rule: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/** A rule, route as stored: with the municipality it belongs to. [services/auth/orgs.ts] */
export type OrgRule = Rule & { org: string };
export type OrgRoute = Route & { org: string };

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

export class AlarmService {
  readonly rules = new Map<string, OrgRule>();
  readonly routes = new Map<string, OrgRoute>();
  readonly store: AlarmStore;
  private listeners: Array<() => void> = [];
  private readonly transitionHook: (t: Transition, a: Alarm) => void;
  private readonly onChanged: (a: Alarm, kind: AlarmChangeKind) => void;
  private readonly onNotify: () => void;
  private readonly onClaimed: (rows: ClaimedNotification[]) => void;

  constructor(
    private db: Db,
    private devices: DeviceRegistry,
    readonly publicUrl: string,
    readonly now: () => number,
    hooks: AlarmHooks = {},
  ) {
    this.transitionHook = hooks.onTransition ?? (() => {});
    this.onChanged = hooks.onChanged ?? (() => {});
    this.onNotify = () => hooks.delivery?.kick();
    this.onClaimed = (rows) => hooks.delivery?.deliverNow(rows);
    this.store = new AlarmStore({
      rule: (id) => this.rules.get(id),
      device: (id) => this.devices.get(id),
      routes: () => [...this.routes.values()],
      publicUrl,
      now,
      deliversHere: () => hooks.delivery !== undefined,
    });
  }

  onRulesChanged(fn: () => void) {
    this.listeners.push(fn);
  }

  async load() {
    const rs = await this.db.query<{ id: string; definition: RuleDefinition; org: string }>('select id, definition, org from rules order by created_at');
    this.rules.clear();
    for (const r of rs.rows) this.rules.set(r.id, { ...r.definition, id: r.id, org: r.org ?? DEFAULT_ORG });
    const ro = await this.db.query<{ id: string; definition: RouteBody; org: string }>('select id, definition, org from routes order by created_at');
    this.routes.clear();
    for (const r of ro.rows) this.routes.set(r.id, { ...r.definition, id: r.id, org: r.org ?? DEFAULT_ORG });
    for (const f of this.listeners) f();
  }

  // ---- rules ----
  parseRule(body: unknown): RuleDefinition {
    const r = parseRuleInput(body);
    if (!r.ok) throw new RuleInvalid(r.issues);
    return r.rule;
  }

  async createRule(body: unknown, actor: string, org: string = DEFAULT_ORG): Promise<OrgRule> {
    const def = this.parseRule(body);
    const rule = { ...def, id: newId('rule'), org };
    await this.db.transaction(async (tx) => {
      await tx.query('insert into rules(id, name, definition, input, org) values ($1,$2,$3,$4,$5)', [
        rule.id,
        def.name,
        JSON.stringify(def),
        JSON.stringify(body),
        org,
      ]);
      await audit(tx, actor, 'create', 'rule', rule.id, body);
    });
    this.rules.set(rule.id, rule);
    for (const f of this.listeners) f();
    return rule;
  }

  /** `org` moves the rule to another municipality (the API lets only installation-wide tokens do that). */
  async updateRule(id: string, patch: Record<string, unknown>, actor: string, org?: string): Promise<OrgRule | undefined> {
    const r = await this.db.query<{ input: Record<string, unknown>; org: string }>('select input, org from rules where id = $1', [id]);
    if (!r.rows[0]) return undefined;
    const input = { ...r.rows[0].input, ...patch };
    const def = this.parseRule(input);
    const rule = { ...def, id, org: org ?? r.rows[0].org ?? DEFAULT_ORG };
    const { switched, closed } = await this.db.transaction(async (tx) => {
      await tx.query('update rules set name=$2, definition=$3, input=$4, org=$5, updated_at=now() where id=$1', [
        id,
        def.name,
        JSON.stringify(def),
        JSON.stringify(input),
        rule.org,
      ]);
      await audit(tx, actor, 'update', 'rule', id, patch);
      // A disabled rule ends its open alarms now; an edited one has them re-judged by the engine. [docs/api.md Alarms]
      if (def.enabled === false) return { switched: [], closed: await this.closeOpen(tx, 'rule_id = $1', [id], 'rule_disabled') };
      return { switched: await this.store.switchMode(tx, id, def.mode, actor), closed: [] };
    });
    this.rules.set(id, rule);
    this.afterClose(closed);
    for (const f of this.listeners) f();
    for (const a of switched) if (a.claimed.length) this.onClaimed(a.claimed);
    if (switched.some((a) => a.notified > a.claimed.length)) this.onNotify();
    return rule;
  }

  async deleteRule(id: string, actor: string): Promise<boolean> {
    const { ok, closed } = await this.db.transaction(async (tx) => {
      const r = await tx.query('delete from rules where id = $1', [id]);
      if (!r.rowCount) return { ok: false, closed: [] };
      await audit(tx, actor, 'delete', 'rule', id);
      return { ok: true, closed: await this.closeOpen(tx, 'rule_id = $1', [id], 'rule_deleted') };
    });
    this.rules.delete(id);
    this.afterClose(closed);
    for (const f of this.listeners) f();
    return ok;
  }

  /** Inside the device's delete transaction, before the device leaves the registry (messages name it). */
  closeForDevice(tx: Queryable, deviceId: string): Promise<Applied[]> {
    return this.closeOpen(tx, 'device_id = $1', [deviceId], 'device_deleted');
  }

  private closeOpen(tx: Queryable, where: string, params: unknown[], reason: ClosedReason): Promise<Applied[]> {
    return this.store.close(tx, where, params, reason);
  }

  /** At start: alarms whose rule or device went away while no evaluating process ran are closed, not left open. */
  async closeOrphans(): Promise<number> {
    const closed = await this.db.transaction(async (tx) => [
      ...(await this.closeOpen(tx, 'not exists (select 1 from rules r where r.id = alarms.rule_id)', [], 'rule_deleted')),
      ...(await this.closeOpen(tx, "exists (select 1 from rules r where r.id = alarms.rule_id and r.definition->>'enabled' = 'false')", [], 'rule_disabled')),
      ...(await this.closeOpen(tx, 'not exists (select 1 from devices d where d.id = alarms.device_id)', [], 'device_deleted')),
    ]);
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

  // ---- routes ----
  /** `egress`: who saves it decides where its webhooks may go [webhook-egress.ts] */
  async saveRoute(id: string | undefined, body: RouteBody, actor: string, org: string = DEFAULT_ORG, egress: EgressScope = 'municipality'): Promise<OrgRoute> {
    const route = { ...body, id: id ?? newId('route'), org };
    await this.db.transaction(async (tx) => {
      if (id)
        await tx.query('update routes set name=$2, definition=$3, org=$4, egress=$5, updated_at=now() where id=$1', [
          id,
          body.name,
          JSON.stringify(body),
          org,
          egress,
        ]);
      else
        await tx.query('insert into routes(id, name, definition, org, egress) values ($1,$2,$3,$4,$5)', [
          route.id,
          body.name,
          JSON.stringify(body),
          org,
          egress,
        ]);
      await audit(tx, actor, id ? 'update' : 'create', 'route', route.id, body);
    });
    this.routes.set(route.id, route);
    return route;
  }

  async deleteRoute(id: string, actor: string): Promise<boolean> {
    const ok = await this.db.transaction(async (tx) => {
      const r = await tx.query('delete from routes where id = $1', [id]);
      if (r.rowCount) await audit(tx, actor, 'delete', 'route', id);
      return r.rowCount > 0;
    });
    this.routes.delete(id);
    return ok;
  }

  // ---- alarms ----
  private queue: Promise<unknown> = Promise.resolve();

  /** Transitions are applied one at a time, in order, each in its own transaction. */
  apply(ts: Transition[]): Promise<void> {
    if (!ts.length) return Promise.resolve();
    const run = async () => {
      let notified = 0;
      let claimed = 0;
      for (const t of ts) {
        this.liveValues.delete(`${t.ruleId}\u0000${t.deviceId}`);
        const r = await this.db.transaction((tx) => this.store.apply(tx, t));
        if (!r) continue;
        notified += r.notified;
        this.transitionHook(t, r.alarm);
        this.onChanged(r.alarm, t.kind);
        claimed += r.claimed.length;
        if (r.claimed.length) this.onClaimed(r.claimed);
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
      await this.db.query(
        `update alarms a set value = v.value from unnest($1::text[], $2::text[], $3::float8[]) as v(rule_id, device_id, value)
         where a.rule_id = v.rule_id and a.device_id = v.device_id and a.${OPEN_SQL} and a.value is distinct from v.value`,
        [vs.map((v) => v.ruleId), vs.map((v) => v.deviceId), vs.map((v) => v.value)],
      );
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

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
  async list(q: {
    state: 'active' | 'all' | 'firing' | 'acknowledged' | 'resolved' | 'closed';
    deviceId?: string;
    ruleId?: string;
    mode?: string;
    limit: number;
    org?: string | null;
  }): Promise<Alarm[]> {
    const states = q.state === 'active' ? ['firing', 'acknowledged'] : q.state === 'all' ? ['firing', 'acknowledged', 'resolved', 'closed'] : [q.state];
    const r = await this.db.query<AlarmRow>(
      `select * from alarms where state = any($1::text[]) and ($2::text is null or device_id = $2) and ($3::text is null or rule_id = $3)
       and ($4::text is null or mode = $4) and ($6::text is null or org = $6) order by id desc limit $5`,
      [states, q.deviceId ?? null, q.ruleId ?? null, q.mode ?? null, q.limit, q.org ?? null],
    );
    return r.rows.map(toAlarm);
  }

  /** the municipality of an alarm, undefined when there is no such alarm */
  async orgOf(id: string): Promise<string | undefined> {
    if (!bigintId(id)) return undefined;
    const r = await this.db.query<{ org: string | null }>('select org from alarms where id = $1::bigint', [id]);
    return r.rows[0] ? (r.rows[0].org ?? DEFAULT_ORG) : undefined;
  }

  async get(id: string) {
    if (!bigintId(id)) return undefined;
    const r = await this.db.query<AlarmRow>('select * from alarms where id = $1::bigint', [id]);
    if (!r.rows[0]) return undefined;
    const ev = await this.db.query<{
      id: number;
      at: Date;
      kind: string;
      severity: string;
      value: number | null;
      threshold: number | null;
      actor: string | null;
      comment: string | null;
    }>('select * from alarm_events where alarm_id = $1::bigint order by id', [id]);
    const no = await this.db.query<{
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
    const at = await this.db.query<{
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
}
