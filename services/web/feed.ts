// What the console shows live: stations coming back from silence as readings are committed, and alarm
// changes as they are stored. Two hook points feed it (services/app.ts: the writer's onCommitted and the
// alarm service's onChanged, both constructor arguments);
// pages subscribe through the Server-Sent Events endpoint.
import { type Alarm, isEvaluated, type Reading } from '../../alerts/types.ts';

export type AlarmChangeKind = 'firing' | 'escalated' | 'deescalated' | 'acknowledged' | 'resolved' | 'closed' | 'stale';

/**
 * Stations whose map status changed because a reading arrived: they had not been seen for STALE_MS (grey)
 * and are talking again. Per device, the time of its newest reading (epoch ms). Readings themselves are not
 * sent to pages: a page shows colours, and a popup fetches a station's values when it is opened.
 */
export interface StatusBatch {
  [deviceId: string]: number;
}

/** A station that sent nothing for this long is grey on the map even without an offline rule. */
export const STALE_MS = 2 * 3_600_000;

type Listener<T> = (x: T) => void;

export class LiveFeed {
  private alarmListeners = new Set<Listener<{ alarm: Alarm; kind: AlarmChangeKind }>>();
  private statusListeners = new Set<Listener<StatusBatch>>();
  /** per device: station pages open on it, told (coalesced) that it has new readings */
  private deviceListeners = new Map<string, Set<Listener<number>>>();
  private pendingDevices = new Map<string, number>();
  private pending: StatusBatch = {};
  private timer: NodeJS.Timeout | undefined;
  /** newest reading time per device, kept for the map's stale colour */
  readonly lastSeen = new Map<string, number>();
  /** bumped on every alarm change: cached board/station renders made before it are out of date */
  generation = 0;

  /** Status changes are coalesced for `flushMs` so a busy ingest sends at most one small event per interval. */
  constructor(private flushMs = 400) {}

  readings(rs: Reading[], now = Date.now()): void {
    for (const r of rs) {
      if (this.deviceListeners.has(r.deviceId)) this.pendingDevices.set(r.deviceId, Math.max(r.time, this.pendingDevices.get(r.deviceId) ?? 0));
      const seen = this.lastSeen.get(r.deviceId);
      if (seen !== undefined && r.time <= seen) continue;
      this.lastSeen.set(r.deviceId, r.time);
      // only a grey station turning live changes what a page shows; a newer reading of a live one does not
      if (!this.statusListeners.size || !isEvaluated(r.quality)) continue;
      const wasStale = seen === undefined || now - seen > STALE_MS;
      if (wasStale && now - r.time <= STALE_MS) this.pending[r.deviceId] = r.time;
    }
    this.schedule();
  }

  /** Uplinks of these devices were rejected and their rejections stored: the devices' live views look again. */
  rejected(deviceIds: string[], now = Date.now()): void {
    for (const id of deviceIds) if (this.deviceListeners.has(id)) this.pendingDevices.set(id, Math.max(now, this.pendingDevices.get(id) ?? 0));
    this.schedule();
  }

  private schedule(): void {
    if (!this.timer && (this.pendingDevices.size || (this.statusListeners.size && Object.keys(this.pending).length))) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  private flush() {
    this.timer = undefined;
    const batch = this.pending;
    this.pending = {};
    if (Object.keys(batch).length) for (const l of this.statusListeners) l(batch);
    const devices = this.pendingDevices;
    this.pendingDevices = new Map();
    for (const [id, t] of devices) for (const l of this.deviceListeners.get(id) ?? []) l(t);
  }

  /** Tells `l` (at most once per flush interval) that `deviceId` has new readings or rejected uplinks, with the
   *  newest time. */
  onDeviceReadings(deviceId: string, l: Listener<number>): () => void {
    let set = this.deviceListeners.get(deviceId);
    if (!set) this.deviceListeners.set(deviceId, (set = new Set()));
    set.add(l);
    return () => {
      set.delete(l);
      if (!set.size) this.deviceListeners.delete(deviceId);
    };
  }

  alarm(alarm: Alarm, kind: AlarmChangeKind): void {
    this.generation++;
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
    this.generation++;
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

  onStatus(l: Listener<StatusBatch>): () => void {
    this.statusListeners.add(l);
    return () => this.statusListeners.delete(l);
  }

  get subscribers(): number {
    return this.statusListeners.size;
  }
}
