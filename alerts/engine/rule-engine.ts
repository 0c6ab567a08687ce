// The live warning engine: readings and clock ticks in, alarm transitions out. Pure and synchronous.
//
// Time: the engine keeps a monotonic clock = the largest `now` it was given. Every evaluation runs at
// that clock, so windows are (clock − w, clock]. A reading stamped after the clock is treated as taken
// at the clock (device clocks drift; a reading cannot come from the future), without being merged with
// another reading at that instant. A reading older than
// clock − longest window (threshold rules: 1 h) changes no window that matters now, so it fires
// nothing. Backtests pass now = reading time and get the same behaviour. [docs/api.md Rules]

import { OFFLINE_METRIC, type Rule } from '../rules/rule-types.ts';
import { type DeviceInfo, isEvaluated, type Reading, SEVERITIES, type Severity, severityRank, type Transition } from '../types.ts';
import { type AlarmState, isIdle, newState, type Step, step } from './alarm-state.ts';
import { type CompiledRule, compileRule, inScope, THRESHOLD_LATE_MS } from './compiled-rule.ts';
import { type Confirms, decidingLevel, levelAt, type Measurement, measure, measureOffline } from './measure.ts';
import { Series, toMicro } from './windows.ts';

export interface OpenAlarmRef {
  ruleId: string;
  deviceId: string;
  severity: Severity;
  /** its last event was `stale`: it is held already, and says so only once */
  stale?: boolean;
  /** the window of the level in force (the alarm's `window`), so an all-clear after a restart names it */
  window?: string | null;
}

/** A silent device holds its open alarms after 3 × its median uplink interval, never sooner than 15 min. */
const STALE_MIN_MS = 15 * 60_000;
const STALE_INTERVALS = 3;
/** uplink intervals kept per device for the median */
const INTERVALS_KEPT = 15;

export interface LastSeenRef {
  deviceId: string;
  time: number;
}

interface Route {
  rules: CompiledRule[];
  /** combined rules this reading may confirm (`and` on this metric), with the devices whose alarm it confirms */
  companions: { cr: CompiledRule; targets: string[] }[];
  retainMs: number;
}

const NO_ROUTE: Route = { rules: [], companions: [], retainMs: 0 };
const seriesKey = (deviceId: string, metric: string) => `${deviceId}\u0000${metric}`;

/** What decides whether an alarm holds (not its name, mode or timers), key order independent: rules come
 *  from the API and from jsonb, which orders keys its own way. */
function conditionOf(r: Rule): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, x]) => [k, sorted(x)]),
          )
        : v;
  return JSON.stringify(
    sorted({
      kind: r.kind,
      metric: r.metric,
      comparison: r.comparison,
      scope: r.scope,
      levels: r.levels,
      hysteresis: r.clear.hysteresis,
      intensityCap: r.intensityCap,
    }),
  );
}

function getOrCreate<K, V>(m: Map<K, V>, key: K, make: () => V): V {
  let v = m.get(key);
  if (v === undefined) {
    v = make();
    m.set(key, v);
  }
  return v;
}

export class RuleEngine {
  private rules = new Map<string, CompiledRule>();
  private byMetric = new Map<string, CompiledRule[]>();
  /** rules with a confirming condition (`and`) on this metric */
  private byAnd = new Map<string, CompiledRule[]>();
  /** `${deviceId}\0${tag}` → the other devices with the same value of that tag (a catchment's gauges) */
  private peers = new Map<string, string[]>();
  private offline: CompiledRule[] = [];
  private devices = new Map<string, DeviceInfo>();
  /** deviceId → metric → in-scope rules; rebuilt lazily after setRules/setDevices */
  private routes = new Map<string, Map<string, Route>>();
  private offlineTargets = new Map<string, string[]>();
  private series = new Map<string, Series>();
  /** ruleId → deviceId → state; only non-idle states are kept, so tick() walks just the live ones */
  private states = new Map<string, Map<string, AlarmState>>();
  private lastSeen = new Map<string, number>();
  /** when each device was last heard from: the clock when an uplink arrived (its stamp may be older, a
   *  backlog), or after a restart its newest stamp */
  private heardAt = new Map<string, number>();
  /** per device: its newest distinct uplink times, in time order (late ones in their place) */
  private recentUplinks = new Map<string, number[]>();
  /** offline baseline for devices never seen: when the engine first watched them */
  private watchSince = new Map<string, number>();
  /** after a restart: the silence an open offline alarm of a never-seen device had reached (its level's window) */
  private resumeSilence = new Map<string, number>();
  private clock = -Infinity;
  /** called with the current value of an open alarm's deciding level when it changes without a transition */
  onOpenValue?: (ruleId: string, deviceId: string, value: number) => void;

  /** Takes effect with the next reading or tick. States of removed rules are dropped (the alarm store
   *  closes their alarms). An open alarm of a changed rule is re-judged at once, over the current windows,
   *  under the new levels: it continues at the level that holds now (escalated/deescalated when that differs),
   *  or is closed with `rule_changed` when nothing holds any more. [docs/api.md Alarms] */
  setRules(rules: Rule[], now?: number): Transition[] {
    const before = this.rules;
    this.rules = new Map(rules.map((r) => [r.id, compileRule(r)]));
    this.byMetric.clear();
    this.byAnd.clear();
    this.offline = [];
    for (const cr of this.rules.values()) {
      if (cr.rule.kind === 'offline') this.offline.push(cr);
      else if (cr.rule.metric) this.byMetric.set(cr.rule.metric, [...(this.byMetric.get(cr.rule.metric) ?? []), cr]);
      for (const m of cr.andMetrics.keys()) this.byAnd.set(m, [...(this.byAnd.get(m) ?? []), cr]);
    }
    for (const id of this.states.keys()) if (!this.rules.has(id)) this.states.delete(id);
    for (const key of this.series.keys()) {
      const metric = key.split('\u0000')[1];
      if (!this.byMetric.has(metric) && !this.byAnd.has(metric)) this.series.delete(key);
    }
    this.invalidate();
    const t = this.advance(now ?? -Infinity);
    const out: Transition[] = [];
    for (const [id, cr] of this.rules) {
      const old = before.get(id);
      if (old && conditionOf(old.rule) !== conditionOf(cr.rule)) this.rejudge(cr, t, out);
    }
    return out;
  }

  /** Returns the alarms this ends: a device re-tagged (or moved to another municipality) out of a rule's
   *  scope closes that rule's open alarm (`device_changed`) at once. Its windows would otherwise decay into an
   *  all-clear after `clear.for` while the water is still high. [docs/api.md Alarms] */
  setDevices(devices: DeviceInfo[], now?: number): Transition[] {
    const gone = [...this.devices.keys()].filter((id) => !devices.some((d) => d.id === id));
    this.devices = new Map(devices.map((d) => [d.id, d]));
    const out: Transition[] = [];
    const t = this.advance(now ?? -Infinity);
    for (const [ruleId, perDevice] of this.states) {
      const cr = this.rules.get(ruleId);
      if (!cr) continue;
      for (const [deviceId, st] of [...perDevice]) {
        if (!this.devices.has(deviceId) || inScope(cr, deviceId, this.devices.get(deviceId)?.tags)) continue;
        perDevice.delete(deviceId);
        if (st.rank < 0) continue;
        const m = this.measureAt(cr, deviceId, t);
        const closing = this.transition(cr, deviceId, { kind: 'resolved', from: st.rank, to: -1 }, m, t, st);
        out.push({ ...closing, kind: 'closed', closedReason: 'device_changed' });
      }
    }
    // A deleted device's alarms are closed by the store; its windows must not decay into an all-clear.
    for (const id of gone) {
      for (const perDevice of this.states.values()) perDevice.delete(id);
      for (const key of [...this.series.keys()]) if (key.startsWith(`${id}\u0000`)) this.series.delete(key);
      this.lastSeen.delete(id);
      this.heardAt.delete(id);
    }
    this.invalidate();
    return out;
  }

  /** The open alarms of an edited rule under its new levels, without waiting for `for`/`clear.for`. */
  private rejudge(cr: CompiledRule, t: number, out: Transition[]): void {
    const perDevice = this.statesOf(cr.rule.id);
    for (const [deviceId, st] of [...perDevice]) {
      st.pendingSince = undefined;
      st.below = [];
      st.levelIndex = undefined; // the levels changed; the transition below (if any) picks the one in force
      if (st.rank < 0) {
        perDevice.delete(deviceId);
        continue;
      }
      const m = this.measureAt(cr, deviceId, t);
      // escalate by entry thresholds; otherwise keep what the hold thresholds (hysteresis) still carry
      const to = Math.max(m.entryRank, Math.min(m.holdRank, st.rank));
      const from = st.rank;
      if (to < 0) {
        perDevice.delete(deviceId);
        const closing = this.transition(cr, deviceId, { kind: 'resolved', from, to: -1 }, m, t);
        out.push({ ...closing, kind: 'closed', closedReason: 'rule_changed' });
      } else if (to !== from) {
        st.rank = to;
        out.push(this.transition(cr, deviceId, { kind: to > from ? 'escalated' : 'deescalated', from, to }, m, t, st));
      }
    }
    // gauges without an alarm: the current window under the new levels may fire now, not at the next reading
    if (!cr.rule.metric) return;
    for (const key of [...this.series.keys()]) {
      const [deviceId, metric] = key.split('\u0000');
      if (metric === cr.rule.metric && !perDevice.has(deviceId) && this.route(deviceId, metric).rules.includes(cr)) this.evaluate(cr, deviceId, t, out);
    }
  }

  /** Restores a running storm after a restart: window contents, open alarms (no second 'firing'),
   *  and last uplinks. Call after setRules/setDevices. `for`/`clear.for` timers restart from zero. */
  hydrate(readings: Reading[], open: OpenAlarmRef[], lastSeen: LastSeenRef[]): void {
    for (const s of lastSeen) this.markSeen(s.deviceId, s.time);
    for (const r of [...readings].sort((a, b) => a.time - b.time)) {
      this.markSeen(r.deviceId, r.time);
      if (!isEvaluated(r.quality) || !Number.isFinite(r.value)) continue;
      const route = this.route(r.deviceId, r.metric);
      if (route.rules.length === 0 && route.companions.length === 0) continue;
      this.seriesFor(r.deviceId, r.metric, route).insert(r.time, r.value);
      // judged at the first tick, not only at the gauge's next reading: a level already past a threshold
      // starts its `for` (or fires) right after the restart
      for (const cr of route.rules) if (!this.statesOf(cr.rule.id).has(r.deviceId)) this.statesOf(cr.rule.id).set(r.deviceId, newState());
    }
    // A gauge never heard from keeps its open offline alarm across a restart: its silence resumes at that
    // alarm's window instead of starting again from zero, which would resolve the alarm of a gauge still silent.
    for (const o of open) {
      const cr = this.rules.get(o.ruleId);
      if (cr?.rule.kind !== 'offline' || this.lastSeen.has(o.deviceId)) continue;
      const w = Math.max(0, ...cr.levels.filter((l) => l.rank === severityRank(o.severity)).map((l) => l.windowMs));
      this.resumeSilence.set(o.deviceId, Math.max(w, this.resumeSilence.get(o.deviceId) ?? 0));
    }
    for (const o of open) {
      const cr = this.rules.get(o.ruleId);
      if (!cr) continue;
      const st = newState(severityRank(o.severity));
      if (o.stale) st.staleSince = this.lastSeen.get(o.deviceId) ?? -Infinity;
      const i = cr.levels.findIndex((l) => l.rank === st.rank && (l.window ?? null) === (o.window ?? null));
      if (i >= 0) st.levelIndex = i;
      this.statesOf(o.ruleId).set(o.deviceId, st);
    }
  }

  onReading(r: Reading, now: number): Transition[] {
    const out: Transition[] = [];
    this.readingInto(r, now, out);
    return out;
  }

  private readingInto(r: Reading, now: number, out: Transition[]): void {
    const t = this.advance(now);
    // A reading stamped ahead of the clock (a device clock a few minutes fast, inside the ingest tolerance) is
    // evaluated now, at the clock; it stays a reading of its own even when several share that instant.
    // Re-deliveries never get here: the store passes on only rows it newly inserted.
    const early = r.time > t;
    const time = early ? t : r.time;
    this.markSeen(r.deviceId, time);
    if (Number.isFinite(t) && t > (this.heardAt.get(r.deviceId) ?? -Infinity)) this.heardAt.set(r.deviceId, t);
    if (this.offline.length > 0) this.reviewOffline(r.deviceId, t, out); // any uplink, even a flagged one, ends the silence
    if (!isEvaluated(r.quality) || !Number.isFinite(r.value) || !Number.isFinite(time)) return;
    const route = this.route(r.deviceId, r.metric);
    if (route.rules.length === 0 && route.companions.length === 0) return;
    const res = this.seriesFor(r.deviceId, r.metric, route).insert(time, r.value, early);
    if (res === 'duplicate' || res === 'stale') return;
    for (const cr of route.rules) if (time > t - cr.horizonMs) this.evaluate(cr, r.deviceId, t, out, time);
    // a gauge's reading may confirm the combined alarm of its catchment's forecast device [docs/warning-logic.md]
    for (const { cr, targets } of route.companions) for (const target of targets) this.evaluate(cr, target, t, out);
  }

  /** Re-judges everything that changes with time alone: `for` and `clear.for` timers, sums and rises
   *  whose window moves on, and offline silence. Call it every few seconds. */
  tick(now: number): Transition[] {
    const out: Transition[] = [];
    this.tickInto(now, out);
    return out;
  }

  private tickInto(now: number, out: Transition[]): void {
    const t = this.advance(now);
    for (const [ruleId, perDevice] of this.states) {
      const cr = this.rules.get(ruleId);
      if (cr && perDevice.size > 0) for (const deviceId of [...perDevice.keys()]) this.evaluate(cr, deviceId, t, out);
    }
    for (const cr of this.offline) {
      if (!cr.rule.enabled) continue;
      const live = this.states.get(cr.rule.id);
      for (const deviceId of this.targetsOf(cr)) if (!live?.has(deviceId)) this.evaluate(cr, deviceId, t, out);
    }
  }

  /** Whether a tick can change anything: an alarm open or pending, or an offline rule watching silence. Without
   *  either, a tick only moves the clock, which the next reading moves as well. */
  private timersDue(): boolean {
    if (this.offline.length > 0) return true;
    for (const perDevice of this.states.values()) if (perDevice.size > 0) return true;
    return false;
  }

  /** Replays stored readings through a fresh engine with the same code, ticking every `stepMs` of data
   *  time; readings before `from` only fill the windows. Returns what the rule would have raised. */
  backtest(rule: Rule, readings: (Reading & { at?: number })[], from: number, to: number, stepMs = 60_000): Transition[] {
    const e = new RuleEngine();
    e.setRules([rule]);
    e.setDevices([...this.devices.values()]);
    // `at`: when live evaluation saw the reading, if later than its stamp (held by the quality filter)
    const when = (r: Reading & { at?: number }) => r.at ?? r.time;
    // stored readings come oldest first: sorted (a copy) only when they are not
    let inOrder = true;
    for (let i = 1; i < readings.length && inOrder; i++) inOrder = when(readings[i - 1]) <= when(readings[i]);
    const sorted = inOrder ? readings : [...readings].sort((a, b) => when(a) - when(b));
    let first = 0;
    while (first < sorted.length && when(sorted[first]) < from) first++;
    e.hydrate(sorted.slice(0, first), [], []);
    e.states.clear(); // readings before `from` only fill the windows; the first reading from `from` on is judged
    const out: Transition[] = [];
    let next = Math.ceil(from / stepMs) * stepMs;
    for (let i = first; i < sorted.length; i++) {
      const r = sorted[i];
      const at = when(r);
      if (at > to) break;
      // a tick only where a timer can run (an alarm open or pending, offline silence): otherwise it changes nothing
      if (next < at) {
        if (e.timersDue()) for (; next < at; next += stepMs) e.tickInto(next, out);
        else next += Math.ceil((at - next) / stepMs) * stepMs;
      }
      e.readingInto(r, at, out);
    }
    for (; next <= to; next += stepMs) {
      if (!e.timersDue()) break;
      e.tickInto(next, out);
    }
    return out;
  }

  private advance(now: number): number {
    if (Number.isFinite(now) && now > this.clock) this.clock = now;
    return this.clock;
  }

  private markSeen(deviceId: string, time: number): void {
    if (!Number.isFinite(time)) return;
    if (time > (this.lastSeen.get(deviceId) ?? -Infinity)) this.lastSeen.set(deviceId, time);
    if (time > (this.heardAt.get(deviceId) ?? -Infinity)) this.heardAt.set(deviceId, time);
    // the device's cadence by time, not by arrival: a late backlog fills its gap instead of skewing the median
    const times = getOrCreate(this.recentUplinks, deviceId, () => [] as number[]);
    if (times.includes(time) || (times.length > INTERVALS_KEPT && time < times[0])) return;
    const at = times.findIndex((x) => x > time);
    times.splice(at < 0 ? times.length : at, 0, time);
    if (times.length > INTERVALS_KEPT + 1) times.shift();
  }

  /** How long this rule's device may be silent before its open alarm is held as stale. */
  private expectedMs(cr: CompiledRule, deviceId: string): number {
    if (cr.rule.expectedIntervalMs) return cr.rule.expectedIntervalMs;
    const times = this.recentUplinks.get(deviceId) ?? [];
    const gaps = times
      .slice(1)
      .map((x, i) => x - times[i])
      .sort((a, b) => a - b);
    const median = gaps.length ? gaps[(gaps.length - 1) >> 1] : 0;
    return Math.max(STALE_MIN_MS, STALE_INTERVALS * median);
  }

  /**
   * Missing data never ends or lowers an alarm: while the device of an open alarm is silent for longer than
   * expected, its windows are not judged (a sum decaying for lack of readings is no all-clear) and one
   * `stale` transition says so. The next reading resumes evaluation; `clear.for` then counts from fresh data.
   */
  private holdsStale(cr: CompiledRule, deviceId: string, st: AlarmState, t: number, out: Transition[]): boolean {
    if (st.rank < 0 || cr.rule.kind === 'offline') return false;
    // a rule that no longer applies to the device is a change of configuration, not missing data
    if (!cr.rule.enabled || !inScope(cr, deviceId, this.devices.get(deviceId)?.tags)) return false;
    // silence is judged by arrival: a backlog stamped 20 min ago is a gauge talking, and must be evaluated
    const seen = this.heardAt.get(deviceId) ?? -Infinity;
    if (t - seen < this.expectedMs(cr, deviceId)) {
      if (st.staleSince !== undefined && seen > st.staleSince) {
        st.staleSince = undefined;
        st.below = [];
      }
      return false;
    }
    if (st.staleSince !== undefined) return true;
    st.staleSince = seen;
    const level = cr.levels.find((l) => l.rank === st.rank) ?? cr.levels[0];
    out.push({
      kind: 'stale',
      ruleId: cr.rule.id,
      deviceId,
      metric: cr.rule.metric ?? OFFLINE_METRIC,
      severity: SEVERITIES[st.rank],
      value: Number.isFinite(seen) ? Math.round((t - seen) / 1000) : 0,
      threshold: Math.round(this.expectedMs(cr, deviceId) / 1000),
      ...(level.window !== undefined && { window: level.window }),
      at: t,
      mode: cr.rule.mode,
      ...(this.lastSeen.has(deviceId) && { lastReadingAt: this.lastSeen.get(deviceId) }),
    });
    return true;
  }

  private reviewOffline(deviceId: string, t: number, out: Transition[]): void {
    for (const cr of this.offline) if (this.states.get(cr.rule.id)?.has(deviceId)) this.evaluate(cr, deviceId, t, out);
  }

  /** `readingTime`: the time of the reading being evaluated (a tick: t); where a condition begins it is the
   *  alarm's startedAt, as a backtest reports it, not when it was processed. */
  private evaluate(cr: CompiledRule, deviceId: string, t: number, out: Transition[], readingTime = t): void {
    const perDevice = this.statesOf(cr.rule.id);
    const st = perDevice.get(deviceId) ?? newState();
    if (this.holdsStale(cr, deviceId, st, t, out)) return;
    const m = this.measureAt(cr, deviceId, t);
    if (m.entryRank > st.rank && st.pendingSince === undefined) st.conditionSince = Math.min(readingTime, t);
    const s = step(st, m, { ranks: cr.ranks, forMs: cr.rule.forMs, clearForMs: cr.rule.clear.forMs }, t);
    if (isIdle(st)) perDevice.delete(deviceId);
    else perDevice.set(deviceId, st);
    if (s) out.push({ ...this.transition(cr, deviceId, s, m, t, st), ...(s.kind === 'firing' && { since: st.conditionSince ?? t }) });
    else if (st.rank >= 0 && this.onOpenValue) this.onOpenValue(cr.rule.id, deviceId, decidingLevel(cr, m, st.rank).value);
  }

  private measureAt(cr: CompiledRule, deviceId: string, t: number): Measurement {
    const active = cr.rule.enabled && inScope(cr, deviceId, this.devices.get(deviceId)?.tags);
    if (cr.rule.kind !== 'offline') {
      const confirms: Confirms | undefined = cr.andMetrics.size ? (l) => this.confirmed(l.and, deviceId, t) : undefined;
      return measure(cr, this.series.get(seriesKey(deviceId, cr.rule.metric ?? '')), t, active, confirms);
    }
    const seen = this.lastSeen.get(deviceId) ?? getOrCreate(this.watchSince, deviceId, () => t - (this.resumeSilence.get(deviceId) ?? 0));
    return measureOffline(cr, Math.max(0, t - seen), active);
  }

  /** Whether any other device sharing the alarm device's tag (its catchment) meets the confirming condition:
   *  its rain sum over the window, or its latest value of the last hour, at or past the threshold. */
  private confirmed(c: CompiledRule['levels'][number]['and'], deviceId: string, t: number): boolean {
    if (!c) return true;
    const want = toMicro(c.threshold);
    for (const peer of this.peersOf(deviceId, c.tag)) {
      const s = this.series.get(seriesKey(peer, c.metric));
      if (!s) continue;
      if (c.kind === 'accumulation') {
        if (s.sumMicro(t, c.windowMs) >= want) return true;
        continue;
      }
      const last = s.lastMicro(t);
      if (last && last.time > t - THRESHOLD_LATE_MS && last.micro >= want) return true;
    }
    return false;
  }

  private peersOf(deviceId: string, tag: string): string[] {
    return getOrCreate(this.peers, `${deviceId}\u0000${tag}`, () => {
      const v = this.devices.get(deviceId)?.tags?.[tag];
      if (v === undefined) return [];
      return [...this.devices.values()].filter((d) => d.id !== deviceId && d.tags?.[tag] === v).map((d) => d.id);
    });
  }

  /** `st`: the alarm's state, which remembers the level in force; an all-clear reports that level with its
   *  own window's value and threshold, never another window's value next to it. */
  private transition(cr: CompiledRule, deviceId: string, s: Step, m: Measurement, t: number, st?: AlarmState): Transition {
    const resolved = s.kind === 'resolved';
    const kept = resolved && st?.levelIndex !== undefined && cr.levels[st.levelIndex]?.rank === s.from ? st.levelIndex : undefined;
    const { level, value, index } = kept !== undefined ? levelAt(cr, m, kept) : decidingLevel(cr, m, resolved ? s.from : s.to);
    if (st) st.levelIndex = resolved ? undefined : index;
    return {
      kind: s.kind,
      ruleId: cr.rule.id,
      deviceId,
      metric: cr.rule.metric ?? OFFLINE_METRIC,
      severity: SEVERITIES[resolved ? s.from : s.to],
      ...(s.kind === 'escalated' || s.kind === 'deescalated' ? { previousSeverity: SEVERITIES[s.from] } : {}),
      value,
      threshold: level.threshold,
      ...(level.window !== undefined && { window: level.window }),
      at: t,
      mode: cr.rule.mode,
    };
  }

  private statesOf(ruleId: string): Map<string, AlarmState> {
    return getOrCreate(this.states, ruleId, () => new Map<string, AlarmState>());
  }

  private invalidate(): void {
    this.routes.clear();
    this.peers.clear();
    this.offlineTargets.clear();
  }

  private route(deviceId: string, metric: string): Route {
    const perDevice = getOrCreate(this.routes, deviceId, () => new Map<string, Route>());
    return getOrCreate(perDevice, metric, () => {
      const tags = this.devices.get(deviceId)?.tags;
      const rules = (this.byMetric.get(metric) ?? []).filter((cr) => cr.rule.enabled && inScope(cr, deviceId, tags));
      // combined rules: this device confirms the alarms of the in-scope devices that share its tag (catchment)
      const companions: Route['companions'] = [];
      for (const cr of this.byAnd.get(metric) ?? []) {
        if (!cr.rule.enabled) continue;
        const tagsOfCr = new Set(cr.levels.filter((l) => l.and?.metric === metric).map((l) => l.and?.tag as string));
        const targets = new Set<string>();
        for (const tag of tagsOfCr) for (const peer of this.peersOf(deviceId, tag)) if (inScope(cr, peer, this.devices.get(peer)?.tags)) targets.add(peer);
        if (targets.size) companions.push({ cr, targets: [...targets] });
      }
      const retainMs = Math.max(0, ...rules.map((cr) => cr.retainMs), ...companions.map(({ cr }) => cr.andMetrics.get(metric) ?? 0));
      const route = rules.length === 0 && companions.length === 0 ? NO_ROUTE : { rules, companions, retainMs };
      const s = this.series.get(seriesKey(deviceId, metric));
      if (s) s.retainMs = route.retainMs; // rules changed: keep exactly what the new windows need
      return route;
    });
  }

  private seriesFor(deviceId: string, metric: string, route: Route): Series {
    return getOrCreate(this.series, seriesKey(deviceId, metric), () => new Series(route.retainMs));
  }

  private targetsOf(cr: CompiledRule): string[] {
    return getOrCreate(this.offlineTargets, cr.rule.id, () => {
      const candidates = new Set([...(cr.rule.scope.deviceIds ?? []), ...this.devices.keys()]);
      return [...candidates].filter((id) => inScope(cr, id, this.devices.get(id)?.tags));
    });
  }
}
