// What the console shows live: readings as they are committed and alarm changes as they are stored.
// Two hook points feed it (services/app.ts: the writer's onCommitted and the alarm service's onChanged, both constructor arguments);
// pages subscribe through the Server-Sent Events endpoint.
import { type Alarm, isEvaluated, type Reading } from '../../alerts/types.ts';

export type AlarmChangeKind = 'firing' | 'escalated' | 'deescalated' | 'acknowledged' | 'resolved' | 'closed' | 'stale';

export interface ReadingsBatch {
  /** per device: the time of its newest reading and the newest value of each metric */
  [deviceId: string]: { time: number; values: Record<string, number> };
}

type Listener<T> = (x: T) => void;

export class LiveFeed {
  private alarmListeners = new Set<Listener<{ alarm: Alarm; kind: AlarmChangeKind }>>();
  private readingListeners = new Set<Listener<ReadingsBatch>>();
  private pending: ReadingsBatch = {};
  private timer: NodeJS.Timeout | undefined;
  /** newest reading time per device, kept for the map's stale colour */
  readonly lastSeen = new Map<string, number>();

  /** Readings are coalesced for `flushMs` so a busy ingest sends one small event per interval, not one per uplink. */
  constructor(private flushMs = 400) {}

  readings(rs: Reading[]): void {
    for (const r of rs) {
      const seen = this.lastSeen.get(r.deviceId);
      if (seen === undefined || r.time > seen) this.lastSeen.set(r.deviceId, r.time);
      if (!this.readingListeners.size) continue;
      const p = (this.pending[r.deviceId] ??= { time: r.time, values: {} });
      if (r.time >= p.time) p.time = r.time;
      if (isEvaluated(r.quality)) p.values[r.metric] = r.value;
    }
    if (this.readingListeners.size && !this.timer && Object.keys(this.pending).length) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  private flush() {
    this.timer = undefined;
    const batch = this.pending;
    this.pending = {};
    for (const l of this.readingListeners) l(batch);
  }

  alarm(alarm: Alarm, kind: AlarmChangeKind): void {
    this.recent.set(`${alarm.id}:${kind}`, Date.now());
    for (const l of this.alarmListeners) l({ alarm, kind });
  }

  /**
   * An alarm change read back from the database (made by another process sharing it); skipped when this
   * process already announced the same change of the same alarm in the last 10 s.
   */
  alarmFromStore(alarm: Alarm, kind: AlarmChangeKind): void {
    const seen = this.recent.get(`${alarm.id}:${kind}`);
    if (seen !== undefined && Date.now() - seen < 10_000) return;
    for (const l of this.alarmListeners) l({ alarm, kind });
  }
  private recent = new Map<string, number>();

  /** forget announcements older than the dedupe window */
  prune(now = Date.now()): void {
    for (const [k, t] of this.recent) if (now - t > 10_000) this.recent.delete(k);
  }

  onAlarm(l: Listener<{ alarm: Alarm; kind: AlarmChangeKind }>): () => void {
    this.alarmListeners.add(l);
    return () => this.alarmListeners.delete(l);
  }

  onReadings(l: Listener<ReadingsBatch>): () => void {
    this.readingListeners.add(l);
    return () => this.readingListeners.delete(l);
  }

  get subscribers(): number {
    return this.readingListeners.size;
  }
}
