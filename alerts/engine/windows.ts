// Rolling series of one (device, metric): time-sorted points, values as integer micro-units so rain
// sums are exact (74 tips of 0.2 mm are 14.8, never 14.799999999999997). [domain S2]
// Sums: absolute prefix sums + binary search → O(log n). Min/max: monotonic deques per window → O(1)
// amortised. Appends are O(1); a late (out-of-order) point costs a splice, which is rare.
import { MonoDeque } from './mono-deque.ts';

export const MICRO = 1_000_000;
export const toMicro = (v: number): number => Math.round(v * MICRO);
export const fromMicro = (m: number): number => m / MICRO;

export type InsertResult = 'appended' | 'inserted' | 'duplicate' | 'stale';

export class Series {
  private times: number[] = [];
  private micros: number[] = [];
  /** cum[i] = sum of micros[0..i]; stays valid when head moves, rebased on compaction */
  private cum: number[] = [];
  private head = 0;
  private trackers = new Map<string, { dq: MonoDeque; dirty: boolean }>();

  /** How far behind the newest point data is kept (longest window needed + margin). */
  constructor(public retainMs: number) {}

  get size(): number {
    return this.times.length - this.head;
  }

  newestTime(): number | undefined {
    return this.size > 0 ? this.times[this.times.length - 1] : undefined;
  }

  /** Adds a point; the first point for a time wins (re-delivered uplinks are not counted twice). With
   *  `distinct`, the point is known to be a different reading even when its time equals another's (readings
   *  from the near future, all clamped to the clock), so it is kept next to it. */
  insert(time: number, value: number, distinct = false): InsertResult {
    const newest = this.newestTime();
    if (newest !== undefined && time <= newest - this.retainMs) return 'stale';
    const v = toMicro(value);
    if (newest === undefined || time > newest || (distinct && time === newest)) {
      this.append(time, v);
      this.prune(time - this.retainMs);
      return 'appended';
    }
    const i = this.upper(time);
    if (!distinct && i > this.head && this.times[i - 1] === time) return 'duplicate';
    this.spliceIn(i, time, v);
    return 'inserted';
  }

  /** Exact sum (micro-units) of points with time in (t − w, t]. */
  sumMicro(t: number, w: number): number {
    return this.cumBefore(this.upper(t)) - this.cumBefore(this.upper(t - w));
  }

  /** Sum over (t − w, t] where the readings of one instant count at most `capPerHour` (micro-units per hour) times
   *  the time since the reading before them (found up to `lookbackMs` back; none there counts as one hour).
   *  A scan over the window: used by rules with an intensity cap only. */
  cappedSumMicro(t: number, w: number, capPerHour: number, lookbackMs: number): number {
    const end = this.upper(t);
    let i = this.upper(t - w);
    let prev = i > this.head ? this.times[i - 1] : undefined;
    let total = 0;
    while (i < end) {
      const time = this.times[i];
      let group = 0;
      while (i < end && this.times[i] === time) group += this.micros[i++];
      const dt = prev !== undefined && time - prev <= lookbackMs ? time - prev : lookbackMs;
      total += Math.min(group, Math.floor((capPerHour * dt) / 3_600_000));
      prev = time;
    }
    return total;
  }

  sum(t: number, w: number): number {
    return fromMicro(this.sumMicro(t, w));
  }

  /** Newest point with time ≤ t, in micro-units. */
  lastMicro(t: number): { time: number; micro: number } | undefined {
    const i = this.upper(t) - 1;
    return i >= this.head ? { time: this.times[i], micro: this.micros[i] } : undefined;
  }

  /** The value at time x on the straight line between the newest point before x and the first point from x on
   *  (micro-units); undefined when either is missing. A rise across a gap in the data starts at the window's
   *  start, not at the first point inside the window. */
  interpolatedMicro(x: number): number | undefined {
    const i = this.upper(x - 1); // first point with time ≥ x (times are whole milliseconds)
    if (i <= this.head || i >= this.times.length) return undefined;
    const [t0, v0, t1, v1] = [this.times[i - 1], this.micros[i - 1], this.times[i], this.micros[i]];
    return t1 === x ? v1 : Math.round(v0 + ((v1 - v0) * (x - t0)) / (t1 - t0));
  }

  /** Min (or max) in micro-units over (t − w, t]; undefined when the window is empty. */
  extremeMicro(kind: 'min' | 'max', t: number, w: number): number | undefined {
    const lo = t - w;
    const newest = this.newestTime();
    if (newest === undefined || t < newest) return this.scan(kind, lo, t); // historic query
    const key = `${kind}:${w}`;
    let tr = this.trackers.get(key);
    if (!tr) {
      tr = { dq: new MonoDeque(kind === 'min'), dirty: true };
      this.trackers.set(key, tr);
    }
    if (tr.dirty || lo < tr.dq.lo) this.rebuild(tr, kind, lo);
    tr.dq.expire(lo);
    return tr.dq.front();
  }

  min(t: number, w: number): number | undefined {
    const m = this.extremeMicro('min', t, w);
    return m === undefined ? undefined : fromMicro(m);
  }

  max(t: number, w: number): number | undefined {
    const m = this.extremeMicro('max', t, w);
    return m === undefined ? undefined : fromMicro(m);
  }

  last(t: number): { time: number; value: number } | undefined {
    const p = this.lastMicro(t);
    return p && { time: p.time, value: fromMicro(p.micro) };
  }

  private append(time: number, v: number): void {
    const prev = this.cum.length > 0 ? this.cum[this.cum.length - 1] : 0;
    this.times.push(time);
    this.micros.push(v);
    this.cum.push(prev + v);
    for (const tr of this.trackers.values()) if (!tr.dirty) tr.dq.push(time, v);
  }

  private spliceIn(i: number, time: number, v: number): void {
    this.times.splice(i, 0, time);
    this.micros.splice(i, 0, v);
    this.cum.splice(i, 0, 0);
    for (let k = i; k < this.cum.length; k++) this.cum[k] = (k > 0 ? this.cum[k - 1] : 0) + this.micros[k];
    for (const tr of this.trackers.values()) tr.dirty = true;
  }

  /** Drops points older than cutoff but always keeps the newest (threshold rules need the last value) and the
   *  newest one before cutoff (a rate window's start in a gap is interpolated from it). */
  private prune(cutoff: number): void {
    const end = this.times.length - 1;
    while (this.head < end && this.times[this.head + 1] < cutoff) this.head++;
    if (this.head > 256 && this.head * 2 > this.times.length) this.compact();
  }

  private compact(): void {
    const base = this.cum[this.head - 1];
    this.times = this.times.slice(this.head);
    this.micros = this.micros.slice(this.head);
    this.cum = this.cum.slice(this.head).map((c) => c - base); // keeps cumulative sums small
    this.head = 0;
  }

  private cumBefore(i: number): number {
    return i > 0 ? this.cum[i - 1] : 0; // pruned cum entries stay until compaction, so i − 1 ≥ head − 1 is valid
  }

  /** First index ≥ head whose time is > t. */
  private upper(t: number): number {
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private rebuild(tr: { dq: MonoDeque; dirty: boolean }, kind: 'min' | 'max', lo: number): void {
    tr.dq = new MonoDeque(kind === 'min');
    for (let i = this.upper(lo); i < this.times.length; i++) tr.dq.push(this.times[i], this.micros[i]);
    tr.dirty = false;
  }

  private scan(kind: 'min' | 'max', lo: number, t: number): number | undefined {
    let best: number | undefined;
    for (let i = this.upper(lo); i < this.upper(t); i++) {
      const v = this.micros[i];
      if (best === undefined || (kind === 'min' ? v < best : v > best)) best = v;
    }
    return best;
  }
}
