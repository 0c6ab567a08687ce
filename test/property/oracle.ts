// A brute-force model of the warning semantics [docs/api.md Rules, alerts/engine/README.md], written from the
// documentation and not from the engine: every window is recomputed from the full list of readings ever
// delivered, at every evaluation, with plain loops over plain numbers. No prefix sums, no deques, no
// retention, no hydration: a restart only forgets what the documentation says it forgets (the `for` and
// `clear.for` timers, and when a never-seen device was first watched).
import type { Rule, RuleLevel } from '../../alerts/rules/rule-types.ts';
import { type DeviceInfo, type Reading, SEVERITIES, severityRank, type Transition } from '../../alerts/types.ts';

/** Values are compared in integer micro-units, as the documentation promises exact sums (74 × 0.2 = 14.8). */
const micro = (v: number) => Math.round(v * 1_000_000);
const HOUR = 3_600_000;
/** documented: a threshold reading older than 1 h behind the clock fires nothing */
const THRESHOLD_HORIZON_MS = HOUR;
/** documented: history is kept this long beyond the longest window; older late points are dropped */
const RETAIN_MARGIN_MS = 5 * 60_000;

interface Level extends RuleLevel {
  rank: number;
  /** signed entry threshold (micro-units; ms of silence for offline) */
  enter: number;
  /** signed hold threshold: enter − hysteresis */
  hold: number;
}

/** [time it counts at, value in micro-units, time it is stamped with] */
type Point = [number, number, number];

interface State {
  rank: number;
  /** the entry condition for a rank above `rank` holds without a break since */
  pendingSince?: number;
  /** per rank: the value has not supported that rank, without a break, since */
  unsupported: Map<number, number>;
  /** held because the device went silent; the time of its last uplink then */
  staleSince?: number;
  /** documented: the level that decided the last transition is the level in force; the all-clear reports it */
  level?: number;
}

/** documented: a device is silent after 3 × its median uplink interval (the last 15), never under 15 min */
const STALE_MIN_MS = 15 * 60_000;

export interface OracleOptions {
  /** issue 10 item 7: an edited rule re-judges its open alarms at once */
  rejudgeOnEdit?: boolean;
  /** issue 10 item 6: an open alarm never de-escalates or resolves while its device is silent */
  staleHold?: boolean;
}

export class Oracle {
  private clock = Number.NEGATIVE_INFINITY;
  private rules: Rule[] = [];
  private devices = new Map<string, DeviceInfo>();
  /** every reading delivered, by device, metric and stamp (the store) */
  private delivered = new Map<string, Reading>();
  /** device␀metric → points in time order; quality-0 readings only; never pruned */
  private points = new Map<string, Point[]>();
  /** the newest uplink per device, any metric, any quality */
  private uplinks = new Map<string, number>();
  /** when each device was last heard from: the clock when an uplink arrived, whatever its stamp */
  private heard = new Map<string, number>();
  /** every distinct uplink time per device, in time order */
  private uplinkTimes = new Map<string, number[]>();
  private watchSince = new Map<string, number>();
  /** rule␀device → the kind of its latest transition (what the alarm's latest event is) */
  private lastKind = new Map<string, string>();
  /** rule␀device → when it last said `stale`; device → its newest reading's own stamp */
  private staleAt = new Map<string, number>();
  private newestStamp = new Map<string, number>();
  private resume = new Map<string, number>();
  private states = new Map<string, State>();
  private readonly transitions: Transition[] = [];
  get out(): Transition[] {
    return this.transitions;
  }

  private emit(t: Transition): void {
    this.lastKind.set(key(t.ruleId, t.deviceId), t.kind);
    if ((t.kind as string) === 'stale') this.staleAt.set(key(t.ruleId, t.deviceId), t.at);
    this.transitions.push(t);
  }

  constructor(private readonly opts: OracleOptions = {}) {}

  /** `now`: when the edit is made; with `rejudgeOnEdit` an edited condition re-judges open alarms then. */
  setRules(rules: Rule[], now?: number): void {
    const ids = new Set(rules.map((r) => r.id));
    for (const key of this.states.keys()) if (!ids.has(key.split('\u0000')[0])) this.states.delete(key); // documented: dropped silently
    const before = new Map(this.rules.map((r) => [r.id, r]));
    this.rules = rules;
    if (!this.opts.rejudgeOnEdit || now === undefined) return;
    const t = this.advance(now);
    for (const rule of rules) {
      const old = before.get(rule.id);
      if (old && condition(old) !== condition(rule)) this.rejudge(rule, t);
    }
  }

  /** issue 10 item 7: the open alarm continues at the level that holds under the new levels (hysteresis
   *  keeping what it keeps), or is closed with rule_changed; `for`/`clear.for` start over. */
  private rejudge(rule: Rule, t: number): void {
    for (const [k, st] of [...this.states]) {
      const [ruleId, deviceId] = k.split('\u0000');
      if (ruleId !== rule.id) continue;
      if (st.rank < 0) {
        this.states.delete(k);
        continue;
      }
      const levels = compiled(rule);
      const vals = this.values(rule, levels, deviceId, t);
      const { entry, hold } = this.ranks(rule, levels, vals, deviceId);
      const from = st.rank;
      const to = Math.max(entry, Math.min(hold, from));
      const next: State = { rank: to, unsupported: new Map(), staleSince: st.staleSince };
      this.states.set(k, next);
      if (to < 0) {
        this.states.delete(k);
        const ended = this.transition(rule, levels, vals, deviceId, { kind: 'resolved', from, to }, t);
        this.emit({ ...ended, kind: 'closed', closedReason: 'rule_changed' } as unknown as Transition);
      } else if (to !== from) this.emit(this.transition(rule, levels, vals, deviceId, { kind: to > from ? 'escalated' : 'deescalated', from, to }, t, next));
    }
    // "re-evaluates the current window at once": gauges without an alarm may fire under the new levels now
    for (const id of new Set([...(rule.scope.deviceIds ?? []), ...this.devices.keys()])) {
      if (rule.enabled && this.inScope(rule, id) && !this.states.has(key(rule.id, id)) && this.points.has(key(id, rule.metric ?? '')))
        this.evaluate(rule, id, t);
    }
  }

  setDevices(devices: DeviceInfo[]): void {
    this.devices = new Map(devices.map((d) => [d.id, d]));
  }

  /** documented: a restart keeps open alarms and the data, and restarts `for`/`clear.for` from zero */
  restart(now: number): void {
    this.clock = Number.NEGATIVE_INFINITY;
    // a gauge never heard from keeps its open offline alarm: its silence resumes at that alarm's window
    this.resume.clear();
    for (const [k, st] of this.states) {
      const [ruleId, deviceId] = k.split('\u0000');
      const rule = this.rules.find((r) => r.id === ruleId);
      if (rule?.kind !== 'offline' || st.rank < 0 || this.uplinks.has(deviceId)) continue;
      const w = Math.max(0, ...rule.levels.filter((l) => severityRank(l.severity) === st.rank).map((l) => l.windowMs));
      this.resume.set(deviceId, Math.max(w, this.resume.get(deviceId) ?? 0));
    }
    // after a restart the data is what was stored; a reading stamped ahead of the restart counts from it
    for (const pts of this.points.values()) {
      for (const p of pts) p[0] = Math.min(p[2], now);
      pts.sort((a, b) => a[0] - b[0]);
    }
    this.uplinks.clear();
    this.uplinkTimes.clear();
    for (const r of this.delivered.values()) {
      const time = Math.min(r.time, now);
      this.uplinks.set(r.deviceId, Math.max(time, this.uplinks.get(r.deviceId) ?? time));
      this.addUplinkTime(r.deviceId, time);
    }
    // when a device was heard is not stored: after a restart it was last heard at its newest stamp
    this.heard = new Map(this.uplinks);
    this.watchSince.clear();
    for (const [key, st] of this.states) {
      const deviceId = key.split('\u0000')[1];
      if (st.rank < 0) this.states.delete(key);
      // documented: an alarm that said `stale`, and whose gauge sent nothing stamped after that, is held already
      else {
        const staleAt = this.staleAt.get(key);
        const held = staleAt !== undefined && (this.newestStamp.get(deviceId) ?? Number.NEGATIVE_INFINITY) < staleAt;
        // the stored alarm keeps its level in force (its window)
        this.states.set(key, {
          rank: st.rank,
          unsupported: new Map(),
          level: st.level,
          ...(held && { staleSince: this.heard.get(deviceId) ?? Number.NEGATIVE_INFINITY }),
        });
      }
    }
  }

  reading(r: Reading, now: number): void {
    const t = this.advance(now);
    if (this.delivered.has(rkey(r))) return; // documented: a re-delivery is stored once and evaluated once
    this.delivered.set(rkey(r), r);
    this.newestStamp.set(r.deviceId, Math.max(r.time, this.newestStamp.get(r.deviceId) ?? r.time));
    // documented: a reading stamped ahead of the clock counts at the clock, as a reading of its own
    const time = Math.min(r.time, t);
    this.uplinks.set(r.deviceId, Math.max(time, this.uplinks.get(r.deviceId) ?? time));
    this.heard.set(r.deviceId, Math.max(t, this.heard.get(r.deviceId) ?? t));
    this.addUplinkTime(r.deviceId, time);
    // documented: any uplink ends an offline silence; only open offline alarms are re-judged on it
    for (const rule of this.rules) if (rule.kind === 'offline' && this.states.has(key(rule.id, r.deviceId))) this.evaluate(rule, r.deviceId, t);
    if (r.quality !== 0 || !Number.isFinite(r.value)) return;
    const routed = this.rules.filter((x) => x.kind !== 'offline' && x.metric === r.metric && x.enabled && this.inScope(x, r.deviceId));
    if (routed.length === 0) return;
    const series = getOrCreate(this.points, key(r.deviceId, r.metric), () => [] as Point[]);
    const newest = series.at(-1)?.[0] ?? Number.NEGATIVE_INFINITY;
    const retain = Math.max(...routed.map(retainOf));
    if (time <= newest - retain) return; // documented: older than the kept history → dropped
    if (time === r.time && series.some(([x]) => x === time)) return; // documented: same device + same time, first one wins
    series.push([time, micro(r.value), r.time]);
    series.sort((a, b) => a[0] - b[0]);
    for (const rule of routed) if (time > t - horizonOf(rule)) this.evaluate(rule, r.deviceId, t);
  }

  tick(now: number): void {
    const t = this.advance(now);
    // every rule is re-judged for every gauge in its scope at every tick (the engine walks only open and
    // pending alarms and offline targets, claiming nothing else can change with time alone: this checks it)
    for (const k of [...this.states.keys()]) {
      const [ruleId, deviceId] = k.split('\u0000');
      const rule = this.rules.find((x) => x.id === ruleId);
      if (rule) this.evaluate(rule, deviceId, t);
    }
    for (const rule of this.rules) {
      if (!rule.enabled) continue;
      const ids = new Set([...(rule.scope.deviceIds ?? []), ...this.devices.keys()]);
      for (const id of ids) {
        if (!this.inScope(rule, id) || this.states.has(key(rule.id, id))) continue;
        if (rule.kind !== 'offline' && !this.points.has(key(id, rule.metric ?? ''))) continue;
        this.evaluate(rule, id, t);
      }
    }
  }

  private advance(now: number): number {
    if (now > this.clock) this.clock = now;
    return this.clock;
  }

  private inScope(rule: Rule, deviceId: string): boolean {
    if (rule.scope.deviceIds && !rule.scope.deviceIds.includes(deviceId)) return false;
    const tags = this.devices.get(deviceId)?.tags;
    return Object.entries(rule.scope.tags ?? {}).every(([k, v]) => tags?.[k] === v);
  }

  /** The signed value of each level at t (undefined: no data), from the full reading list. */
  private values(rule: Rule, levels: Level[], deviceId: string, t: number): (number | undefined)[] {
    const sign = rule.comparison === 'below' ? -1 : 1;
    if (rule.kind === 'offline') {
      const since = this.uplinks.get(deviceId) ?? getOrCreate(this.watchSince, deviceId, () => t - (this.resume.get(deviceId) ?? 0));
      return levels.map(() => Math.max(0, t - since));
    }
    const all = this.points.get(key(deviceId, rule.metric ?? '')) ?? [];
    let end = all.length;
    while (end > 0 && all[end - 1][0] > t) end--;
    // only the rate and sum windows are cut; a threshold rule compares the latest value, however old
    const from = rule.kind === 'threshold' ? 0 : firstAfter(all, t - longest(rule) - 1);
    const pts = all.slice(from, end);
    const last = pts.at(-1);
    return levels.map((l) => {
      if (rule.kind === 'threshold') return last && sign * last[1];
      if (rule.kind === 'accumulation') {
        const inWin = pts.filter(([time]) => time > t - l.windowMs);
        if (rule.intensityCap === undefined) return sign * inWin.reduce((s, [, v]) => s + v, 0);
        return sign * cappedSum(all.slice(0, end), inWin, micro(rule.intensityCap));
      }
      // rate: change over the closed window [t − w, t]; nothing in the window → no value
      if (!last || last[0] < t - l.windowMs) return undefined;
      const inWin = pts.filter(([time]) => time >= t - l.windowMs).map(([, v]) => v);
      // documented: the level at the window's start, interpolated across a gap, is a baseline too
      const x = t - l.windowMs;
      const after = all.slice(0, end).findIndex(([time]) => time >= x);
      if (after > 0) {
        const [[t0, v0], [t1, v1]] = [all[after - 1], all[after]];
        inWin.push(t1 === x ? v1 : Math.round(v0 + ((v1 - v0) * (x - t0)) / (t1 - t0)));
      }
      const ext = sign > 0 ? Math.min(...inWin) : Math.max(...inWin);
      return sign * (last[1] - ext);
    });
  }

  private evaluate(rule: Rule, deviceId: string, t: number): void {
    const k = key(rule.id, deviceId);
    const st = this.states.get(k) ?? { rank: -1, unsupported: new Map<number, number>() };
    if (this.heldStale(rule, deviceId, st, t)) return;
    const levels = compiled(rule);
    const ranks = [...new Set(levels.map((l) => l.rank))].sort((a, b) => a - b);
    const vals = this.values(rule, levels, deviceId, t);
    const { entry, hold } = this.ranks(rule, levels, vals, deviceId);
    // "without a break": every evaluation either continues or ends each streak
    for (const r of ranks) {
      if (hold < r) st.unsupported.set(r, st.unsupported.get(r) ?? t);
      else st.unsupported.delete(r);
    }
    let step: { kind: Transition['kind']; from: number; to: number } | undefined;
    if (entry > st.rank) {
      st.pendingSince ??= t;
      if (t - st.pendingSince >= rule.forMs) {
        step = { kind: st.rank < 0 ? 'firing' : 'escalated', from: st.rank, to: entry };
        st.rank = entry;
        st.pendingSince = undefined;
      }
    } else {
      st.pendingSince = undefined;
      if (st.rank >= 0) {
        const matured = (r: number) => st.unsupported.has(r) && t - (st.unsupported.get(r) ?? t) >= rule.clear.forMs;
        const to = Math.max(-1, ...ranks.filter((r) => r <= st.rank && !matured(r)));
        if (to < st.rank) step = { kind: to < 0 ? 'resolved' : 'deescalated', from: st.rank, to };
        if (step) st.rank = to;
      }
    }
    if (st.rank < 0 && st.pendingSince === undefined) this.states.delete(k);
    else this.states.set(k, st);
    if (step) this.emit(this.transition(rule, levels, vals, deviceId, step, t, st));
  }

  /** the highest severity whose threshold is reached (entry) and still held within the hysteresis (hold) */
  private ranks(rule: Rule, levels: Level[], vals: (number | undefined)[], deviceId: string): { entry: number; hold: number } {
    let entry = -1;
    let hold = -1;
    if (rule.enabled && this.inScope(rule, deviceId))
      levels.forEach((l, i) => {
        const v = vals[i];
        if (v !== undefined && v >= l.enter) entry = Math.max(entry, l.rank);
        if (v !== undefined && v >= l.hold) hold = Math.max(hold, l.rank);
      });
    return { entry, hold };
  }

  /**
   * issue 10 item 6: while the device of an open alarm is silent for longer than expected, the alarm holds —
   * nothing is judged, one `stale` says so; the next uplink resumes, `clear.for` counting from fresh data.
   */
  private heldStale(rule: Rule, deviceId: string, st: State, t: number): boolean {
    if (!this.opts.staleHold || st.rank < 0 || rule.kind === 'offline' || !rule.enabled || !this.inScope(rule, deviceId)) return false;
    // documented: silence is judged by arrival — a backlog stamped long ago is a gauge talking
    const seen = this.heard.get(deviceId) ?? Number.NEGATIVE_INFINITY;
    const expected = rule.expectedIntervalMs || Math.max(STALE_MIN_MS, 3 * this.medianInterval(deviceId));
    if (t - seen < expected) {
      if (st.staleSince !== undefined && seen > st.staleSince) {
        st.staleSince = undefined;
        st.unsupported.clear();
      }
      return false;
    }
    if (st.staleSince !== undefined) return true;
    st.staleSince = seen;
    const level = compiled(rule).find((l) => l.rank === st.rank) ?? compiled(rule)[0];
    this.emit({
      kind: 'stale' as Transition['kind'],
      ruleId: rule.id,
      deviceId,
      metric: rule.metric ?? 'uplink',
      severity: SEVERITIES[st.rank],
      value: Number.isFinite(seen) ? Math.round((t - seen) / 1000) : 0,
      threshold: Math.round(expected / 1000),
      ...(level.window !== undefined && { window: level.window }),
      at: t,
      mode: rule.mode,
    });
    return true;
  }

  /** the median of the device's last 15 intervals between uplinks (the lower one of an even count) */
  private medianInterval(deviceId: string): number {
    const times = this.uplinkTimes.get(deviceId) ?? [];
    const gaps = times
      .slice(1)
      .map((x, i) => x - times[i])
      .slice(-15)
      .sort((a, b) => a - b);
    return gaps.length ? gaps[(gaps.length - 1) >> 1] : 0;
  }

  private addUplinkTime(deviceId: string, time: number): void {
    const times = getOrCreate(this.uplinkTimes, deviceId, () => [] as number[]);
    if (times.includes(time)) return;
    times.push(time);
    times.sort((a, b) => a - b);
  }

  private transition(
    rule: Rule,
    levels: Level[],
    vals: (number | undefined)[],
    deviceId: string,
    s: { kind: Transition['kind']; from: number; to: number },
    t: number,
    st?: State,
  ): Transition {
    const resolved = s.kind === 'resolved';
    // documented: an all-clear reports the level that was in force, with its own window's value (issue 10 item 8)
    const rank = resolved ? s.from : s.to;
    // documented: the level that decided = the one of that severity closest to (or furthest past) its threshold
    let best = -1;
    levels.forEach((l, i) => {
      if (l.rank !== rank) return;
      const d = (vals[i] ?? Number.NEGATIVE_INFINITY) - l.enter;
      const bd = best < 0 ? Number.NEGATIVE_INFINITY : (vals[best] ?? Number.NEGATIVE_INFINITY) - levels[best].enter;
      if (best < 0 || d > bd) best = i;
    });
    if (resolved && st?.level !== undefined && levels[st.level]?.rank === s.from) best = st.level;
    if (st) st.level = resolved ? undefined : best;
    const level = levels[best];
    const sign = rule.comparison === 'below' ? -1 : 1;
    const raw = sign * (vals[best] ?? 0);
    return {
      kind: s.kind,
      ruleId: rule.id,
      deviceId,
      metric: rule.metric ?? 'uplink',
      severity: SEVERITIES[resolved ? s.from : s.to],
      ...(s.kind === 'escalated' || s.kind === 'deescalated' ? { previousSeverity: SEVERITIES[s.from] } : {}),
      value: rule.kind === 'offline' ? raw / 1000 : raw / 1_000_000,
      threshold: level.threshold,
      ...(level.window !== undefined && { window: level.window }),
      at: t,
      mode: rule.mode,
    };
  }
}

const cache = new WeakMap<Rule, Level[]>();
function compiled(rule: Rule): Level[] {
  const c = cache.get(rule) ?? compile(rule);
  cache.set(rule, c);
  return c;
}

/** documented (docs/warning-logic.md): with an intensity cap, the readings of one instant count at most
 *  cap × the time since the reading before them (looked for up to 1 h back; none there counts as 1 h) */
function cappedSum(before: Point[], inWin: Point[], capPerHour: number): number {
  const times = [...new Set(inWin.map(([time]) => time))];
  let total = 0;
  for (const time of times) {
    const group = inWin.filter(([x]) => x === time).reduce((s, [, v]) => s + v, 0);
    const earlier = before.filter(([x]) => x < time && x >= time - HOUR).map(([x]) => x);
    const dt = earlier.length > 0 ? time - Math.max(...earlier) : HOUR;
    total += Math.min(group, Math.floor((capPerHour * dt) / HOUR));
  }
  return total;
}

/** index of the first point with time > t (plain linear scan) */
function firstAfter(pts: Point[], t: number): number {
  let i = 0;
  while (i < pts.length && pts[i][0] <= t) i++;
  return i;
}

function compile(rule: Rule): Level[] {
  const sign = rule.comparison === 'below' ? -1 : 1;
  return rule.levels
    .map((l) => {
      // documented: a strict level needs the value strictly past its threshold (issue 10 item 12)
      const enter = rule.kind === 'offline' ? l.windowMs : sign * micro(l.threshold) + (l.strict ? 1 : 0);
      return { ...l, rank: severityRank(l.severity), enter, hold: rule.kind === 'offline' ? enter : enter - micro(rule.clear.hysteresis) };
    })
    .sort((a, b) => b.rank - a.rank || a.windowMs - b.windowMs); // documented tie-break: shorter window first
}

/** what decides whether an alarm holds: not the name, mode or timers */
const condition = (r: Rule) => JSON.stringify([r.kind, r.metric, r.comparison, r.scope, r.levels, r.clear.hysteresis, r.intensityCap]);
const longest = (rule: Rule) => Math.max(0, ...rule.levels.map((l) => l.windowMs));
const windowed = (rule: Rule) => rule.kind === 'accumulation' || rule.kind === 'rate';
const horizonOf = (rule: Rule) => (windowed(rule) ? longest(rule) : THRESHOLD_HORIZON_MS);
/** documented: a capped sum looks up to 1 h before its window for the reading before the first one */
const capLookback = (rule: Rule) => (rule.kind === 'accumulation' && rule.intensityCap !== undefined ? HOUR : 0);
const retainOf = (rule: Rule) => (windowed(rule) ? longest(rule) + capLookback(rule) + 1 + RETAIN_MARGIN_MS : 0);
const key = (a: string, b: string) => `${a}\u0000${b}`;
const rkey = (r: Reading) => `${r.deviceId}\u0000${r.metric}\u0000${r.time}`;

function getOrCreate<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}
