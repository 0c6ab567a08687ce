// What the console shows live: readings as they are committed and alarm changes as they are stored.
// Two hook points feed it (services/app.ts: the writer's onCommitted and the alarm service's onChanged);
// pages subscribe through the Server-Sent Events endpoint.
import type { Alarm, Reading } from '../../alerts/types.ts';

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
      if (r.quality === 0) p.values[r.metric] = r.value;
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
    for (const l of this.alarmListeners) l({ alarm, kind });
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
