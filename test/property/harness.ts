// Runs one scenario through the real engine the way the app does (readings stored before they are
// evaluated, transitions recorded as alarms, a restart = a new engine hydrated by services/alarms/
// engine-hydration.ts from what was stored), and through the oracle; returns both transition lists.
import { RuleEngine } from '../../alerts/engine/rule-engine.ts';
import type { Rule } from '../../alerts/rules/rule-types.ts';
import type { Reading, Severity, Transition } from '../../alerts/types.ts';
import { type EngineStateSource, hydrateEngine } from '../../services/alarms/engine-hydration.ts';
import { CounterTracker } from '../../services/ingest/derive.ts';
import { QualityFilter, SEEDED_METRICS, type StoredPoint } from '../../services/ingest/quality.ts';
import { Oracle, type OracleOptions } from './oracle.ts';
import type { Scenario } from './scenario.ts';

/** The readings table and the alarms table, as far as a restart reads them. */
class MemoryStore implements EngineStateSource {
  private readings = new Map<string, Reading>();
  private open = new Map<string, { ruleId: string; deviceId: string; severity: Severity; staleAt?: number; window?: string | null }>();

  /** stored once per device, metric and time, flagged or not [docs/guarantees.md]; true when newly stored */
  store(r: Reading): boolean {
    const k = `${r.deviceId}\u0000${r.metric}\u0000${r.time}`;
    if (this.readings.has(k)) return false;
    this.readings.set(k, r);
    return true;
  }

  /** device_counters: the newest raw count per device (the writer never moves it back in time) */
  readonly counters = new Map<string, { count: number; time: number }>();

  saveCount(deviceId: string, count: number, time: number): void {
    if ((this.counters.get(deviceId)?.time ?? Number.NEGATIVE_INFINITY) <= time) this.counters.set(deviceId, { count, time });
  }

  /** the quality history a restarted ingest reads: per series, the newest two good and two flagged readings */
  qualityHistory(since: number): { deviceId: string; metric: string; points: StoredPoint[] }[] {
    const by = new Map<string, { deviceId: string; metric: string; points: StoredPoint[] }>();
    const sorted = [...this.readings.values()].filter((r) => r.time > since && SEEDED_METRICS.includes(r.metric)).sort((a, b) => b.time - a.time);
    for (const r of sorted) {
      const k = `${r.deviceId}\u0000${r.metric}`;
      const s = by.get(k) ?? { deviceId: r.deviceId, metric: r.metric, points: [] };
      if (s.points.filter((p) => (p.quality === 0) === (r.quality === 0)).length < 2) s.points.push({ time: r.time, value: r.value, quality: r.quality });
      by.set(k, s);
    }
    return [...by.values()];
  }

  /** what AlarmStore.apply does to the open alarm of (rule, device) */
  record(t: Transition): void {
    const k = `${t.ruleId}\u0000${t.deviceId}`;
    if (t.kind === 'resolved' || (t.kind as string) === 'closed')
      this.open.delete(k); // closed: ended by a configuration change
    else {
      // when the alarm last said `stale` (issue 10 item 6); the window of the level in force (item 8)
      const prev = this.open.get(k);
      const staleAt = (t.kind as string) === 'stale' ? t.at : prev?.staleAt;
      const window = (t.kind as string) === 'stale' ? (prev?.window ?? null) : (t.window ?? null);
      this.open.set(k, { ruleId: t.ruleId, deviceId: t.deviceId, severity: t.severity, window, ...(staleAt !== undefined && { staleAt }) });
    }
  }

  async readingsSince(since: number, metrics: string[]): Promise<Reading[]> {
    return [...this.readings.values()].filter((r) => r.time > since && metrics.includes(r.metric)).sort((a, b) => a.time - b.time);
  }

  async lastValuesBefore(before: number, metrics: string[]): Promise<Reading[]> {
    const last = new Map<string, Reading>();
    for (const r of this.readings.values()) {
      if (r.time > before || r.quality !== 0 || !metrics.includes(r.metric)) continue;
      const k = `${r.deviceId}\u0000${r.metric}`;
      if ((last.get(k)?.time ?? -1) < r.time) last.set(k, r);
    }
    return [...last.values()];
  }

  async openAlarms() {
    return [...this.open.values()];
  }

  async lastSeen(since: number) {
    const times = new Map<string, Set<number>>();
    for (const r of this.readings.values()) if (r.time > since) times.set(r.deviceId, (times.get(r.deviceId) ?? new Set()).add(r.time));
    return [...times].flatMap(([deviceId, ts]) =>
      [...ts]
        .sort((a, b) => b - a)
        .slice(0, 16)
        .map((time) => ({ deviceId, time })),
    );
  }
}

/** The ingest steps a reading passes before it is stored: tip counter and quality flags (as createSteps
 *  wires them), seeded from the store after a restart as the app does. */
class Ingest {
  private counters = new CounterTracker();
  private quality = new QualityFilter();

  constructor(store?: MemoryStore, now?: number) {
    if (!store || now === undefined) return;
    for (const [id, c] of store.counters) this.counters.seed(id, c.count, c.time);
    for (const s of store.qualityHistory(now - 6 * 3_600_000)) this.quality.seedSeries(s.deviceId, s.metric, s.points);
  }

  /** the readings of one uplink with their quality, and any held reading the uplink confirmed */
  uplink(readings: Reading[], sinceMs?: number): { readings: Reading[]; released: Reading[] } {
    const out: Reading[] = [];
    const released: Reading[] = [];
    for (const r of readings) {
      const q = this.quality.judge(r.deviceId, r.metric, r.time, r.value, {}, r.metric === 'rain_mm' ? sinceMs : undefined);
      if (q.released) released.push({ deviceId: r.deviceId, metric: r.metric, time: q.released.time, value: q.released.value, quality: 0 });
      out.push({ ...r, quality: q.flags });
    }
    return { readings: out, released };
  }

  counter(deviceId: string, count: number, time: number): { rainMm: number | null; sinceMs?: number } {
    const rainMm = this.counters.next(deviceId, { count, bits: 16 }, { mmPerTip: 0.2 }, time);
    return { rainMm, sinceMs: this.counters.sincePrevious(deviceId) };
  }
}

export async function runEngine(sc: Scenario): Promise<Transition[]> {
  const store = new MemoryStore();
  let rules: Rule[] = sc.rules;
  const boot = () => {
    const e = new RuleEngine();
    e.setDevices(sc.devices);
    e.setRules(rules.filter((r) => r.enabled));
    return e;
  };
  let engine = boot();
  let ingest = new Ingest();
  const out: Transition[] = [];
  const keep = (ts: Transition[]) => {
    for (const t of ts) store.record(t);
    out.push(...ts);
  };
  // the writer hands the engine only the rows it newly inserted: a re-delivery stops at the store
  const deliver = (u: { readings: Reading[]; released: Reading[] }, now: number) => {
    for (const r of u.released) keep(engine.onReading(r, now));
    for (const r of u.readings) if (store.store(r)) keep(engine.onReading(r, now));
  };
  for (const ev of sc.events) {
    if (ev.kind === 'reading') deliver(ingest.uplink([ev.r]), ev.at);
    else if (ev.kind === 'counter') {
      const c = ingest.counter(ev.deviceId, ev.count, ev.time);
      store.saveCount(ev.deviceId, ev.count, ev.time);
      const rs: Reading[] = [{ deviceId: ev.deviceId, metric: 'battery_v', time: ev.time, value: 3.6, quality: 0 }];
      if (c.rainMm !== null) rs.unshift({ deviceId: ev.deviceId, metric: 'rain_mm', time: ev.time, value: c.rainMm, quality: 0 });
      deliver(ingest.uplink(rs, c.sinceMs), ev.at);
    } else if (ev.kind === 'tick') keep(engine.tick(ev.at));
    else if (ev.kind === 'rules') {
      rules = ev.rules;
      // an edited rule may end or change its open alarms at once (issue 10 item 7)
      const edit = engine as unknown as { setRules(r: Rule[], now: number): Transition[] | undefined };
      const now = edit.setRules(
        rules.filter((r) => r.enabled),
        ev.at,
      );
      if (now) keep(now);
    } else {
      engine = boot();
      ingest = new Ingest(store, ev.at);
      await hydrateEngine(engine, rules, store, ev.at);
    }
  }
  return out;
}

export function runOracle(sc: Scenario, opts: OracleOptions = {}): Transition[] {
  const o = new Oracle(opts);
  o.setDevices(sc.devices);
  o.setRules(sc.rules);
  for (const ev of sc.events) {
    if (ev.kind === 'reading') o.reading(ev.r, ev.at);
    else if (ev.kind === 'counter') {
      if (ev.rainMm !== null) o.reading({ deviceId: ev.deviceId, metric: 'rain_mm', time: ev.time, value: ev.rainMm, quality: 0 }, ev.at);
      o.reading({ deviceId: ev.deviceId, metric: 'battery_v', time: ev.time, value: 3.6, quality: 0 }, ev.at);
    } else if (ev.kind === 'tick') o.tick(ev.at);
    else if (ev.kind === 'rules') o.setRules(ev.rules, ev.at);
    else o.restart(ev.at);
  }
  return o.out;
}

const reason = (t: Transition) => {
  const r = (t as { closedReason?: string }).closedReason;
  return r ? `(${r})` : '';
};

/** Order across alarms within one instant carries no meaning; the order of one alarm's transitions does. */
export function canonical(ts: Transition[]): string[] {
  const line = (t: Transition) =>
    `${new Date(t.at).toISOString().slice(11, 19)} ${t.ruleId}/${t.deviceId} ${t.kind}${reason(t)} ${t.previousSeverity ? `${t.previousSeverity}→` : ''}${t.severity} ${t.value}/${t.threshold}${t.window ? `@${t.window}` : ''}${t.mode === 'shadow' ? ' shadow' : ''}`;
  return ts
    .map((t, i) => ({ t, i }))
    .sort((a, b) => a.t.at - b.t.at || a.t.ruleId.localeCompare(b.t.ruleId) || a.t.deviceId.localeCompare(b.t.deviceId) || a.i - b.i)
    .map(({ t }) => line(t));
}

const hhmmss = (t: number) => new Date(t).toISOString().slice(11, 19);

/** The scenario as a short story, for a failure message: rules, then every event except the ticks (only
 *  those of `devices` when given). */
export function story(sc: Scenario, devices?: Set<string>): string {
  const shown = (id: string) => !devices || devices.has(id);
  const rule = (r: Rule) =>
    `  ${r.id}: ${r.kind}${r.metric ? ` ${r.metric}` : ''}${r.comparison === 'below' ? ' below' : ''} ${r.levels.map((l) => `${l.severity}${l.window ? `/${l.window}` : ''}${r.kind === 'offline' ? '' : `≥${l.threshold}`}`).join(' ')} for ${r.for} clear ${r.clear.hysteresis}/${r.clear.for}${r.mode === 'shadow' ? ' shadow' : ''}`;
  const lines = ['rules:', ...sc.rules.map(rule), 'events (arrival: what):'];
  for (const ev of sc.events) {
    if (ev.kind === 'tick') continue;
    if ((ev.kind === 'counter' && !shown(ev.deviceId)) || (ev.kind === 'reading' && !shown(ev.r.deviceId))) continue;
    if (ev.kind === 'counter') lines.push(`  ${hhmmss(ev.at)} ${ev.deviceId} count=${ev.count} (rain ${ev.rainMm ?? 'baseline'})`);
    else if (ev.kind === 'reading') {
      const stamp = ev.r.time === ev.at ? '' : ` stamped ${hhmmss(ev.r.time)}`;
      lines.push(`  ${hhmmss(ev.at)} ${ev.r.deviceId} ${ev.r.metric}=${ev.r.value}${stamp}`);
    } else if (ev.kind === 'restart') lines.push(`  ${hhmmss(ev.at)} RESTART`);
    else lines.push(`  ${hhmmss(ev.at)} RULES EDITED`, ...ev.rules.map(rule));
  }
  return lines.join('\n');
}
