// Turns the DWD's CAP warnings into readings of one virtual device per municipality (dwd-warnungen-<org>):
// dwd_warning_level, dwd_starkregen_level, dwd_dauerregen_level (0 = none in force, else DWD level 1–4).
// A change is stamped with the DWD's own onset or expiry; a Cancel or an alert that left the snapshot ends at
// the moment we learn of it. Rules of kind dwd_warning read these like any threshold rule, so backtests,
// charts and open data see them unchanged. [docs/dwd.md Warnings]
import type { Logger } from 'pino';
import { boundariesBetween, DWD_WARNING_METRICS, type DwdAlert, type DwdWarningMetric, effectiveAlerts, levelsAt } from '../../alerts/dwd/dwd-warnings.ts';
import type { Reading } from '../../alerts/types.ts';
import type { DeviceRegistry } from '../devices/device-registry.ts';
import type { FromWorker } from './worker-protocol.ts';

export const WARNING_DEVICE_MODEL = 'dwd-warnings';
export const WARNING_DEVICE_TAGS = { source: 'dwd-warnings' };
export const warningDeviceId = (org: string) => `dwd-warnungen-${org}`;
/** unchanged levels are written again this often while the feed is healthy, so a silent device means a dead feed */
export const HEARTBEAT_MS = 5 * 60_000;

export interface WarningFeedOptions {
  devices: DeviceRegistry;
  /** stores readings and hands them to the rule engine (the ingest writer) */
  store: (rs: Reading[]) => Promise<unknown>;
  now: () => number;
  log: Logger;
  /** org → 9-digit warncell (replaced at runtime through setWarncells) */
  warncells: Readonly<Record<string, string>>;
  /** told whether any municipality has a warncell, i.e. whether fetching the warnings is worth it */
  onDemand?: (active: boolean) => void;
  /** fetch interval; the feed counts as healthy while a fetch succeeded within 3 intervals (at least 10 min) */
  intervalMs: number;
}

export interface WarningFeedStatus {
  lastSuccessAt: string | null;
  lastSnapshotAt: string | null;
  lastError: { at: string; message: string } | null;
  healthy: boolean;
  /** rain warnings in force per org, highest first */
  inForce: Record<string, { warncell: string; level: number; event: string; headline: string; onset: string; expires: string | null }[]>;
  rejectedFiles: { file: string; reason: string }[];
}

type Levels = Record<DwdWarningMetric, number>;
const iso = (t: number | null) => (t === null || !Number.isFinite(t) ? null : new Date(t).toISOString());

export class WarningFeed {
  private alerts: DwdAlert[] = [];
  private lastOkAt = Number.NEGATIVE_INFINITY;
  private lastSnapshotAt = Number.NEGATIVE_INFINITY;
  private lastError: { at: number; message: string } | null = null;
  private problems: { file: string; reason: string }[] = [];
  private lastEvalAt?: number;
  private last = new Map<string, { levels: Levels; writtenAt: number }>();
  private running?: Promise<void>;

  private warncells: Record<string, string>;
  /** the devices are made with the first snapshot read, so a feed that never reached the DWD adds none */
  private devicesReady = false;

  constructor(private o: WarningFeedOptions) {
    this.warncells = { ...o.warncells };
  }

  /** A municipality's warncell changed (PUT /api/v1/orgs/{org}): its device follows, levels are re-evaluated. */
  async setWarncells(next: Readonly<Record<string, string>>): Promise<void> {
    this.warncells = { ...next };
    for (const org of Object.keys(next)) this.last.delete(org);
    this.devicesReady = false;
    this.o.onDemand?.(Object.keys(this.warncells).length > 0);
    await this.evaluate();
  }

  /** One virtual device per municipality with a warncell; created once (with the first snapshot), kept when it exists. */
  async ensureDevices(): Promise<void> {
    for (const [org, cell] of Object.entries(this.warncells)) {
      const id = warningDeviceId(org);
      const d = this.o.devices.get(id);
      if (d && d.params.warncell !== cell) await this.o.devices.update(id, { params: { ...d.params, warncell: cell } });
      if (d) continue;
      await this.o.devices.create({
        id,
        name: `DWD-Warnungen ${org}`,
        model: WARNING_DEVICE_MODEL,
        devEui: null,
        location: null,
        params: { warncell: cell },
        tags: { ...WARNING_DEVICE_TAGS },
        org,
      });
      this.o.log.info({ deviceId: id, org, warncell: cell }, 'DWD warning device created');
    }
  }

  onMessage(m: FromWorker): void {
    if (m.type === 'error' && m.source === 'cap') {
      this.lastError = { at: m.at, message: m.message };
      this.o.log.warn({ err: m.message }, 'DWD warnings not fetched');
      return;
    }
    if (m.type === 'warnings-unchanged') {
      this.lastOkAt = m.at;
      return;
    }
    if (m.type !== 'warnings') return;
    this.lastOkAt = m.at;
    this.lastSnapshotAt = m.at;
    this.alerts = effectiveAlerts(m.alerts);
    this.problems = m.problems.slice(0, 50);
    if (m.problems.length) this.o.log.warn({ files: m.problems.length, first: m.problems[0] }, 'DWD CAP files rejected');
    this.o.log.info({ alerts: m.alerts.length, inForce: this.alerts.length }, 'DWD warnings snapshot');
    void this.evaluate();
  }

  healthy(now = this.o.now()): boolean {
    return now - this.lastOkAt <= Math.max(3 * this.o.intervalMs, 10 * 60_000);
  }

  /** Writes every level change since the last pass (at its own time) and, while healthy, a heartbeat. */
  evaluate(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    if (!Number.isFinite(this.lastOkAt)) return; // nothing known yet: no claim that nothing is in force
    if (!this.devicesReady) {
      await this.ensureDevices();
      this.devicesReady = true;
    }
    const now = this.o.now();
    const from = this.lastEvalAt ?? now;
    const readings: Reading[] = [];
    for (const [org, cell] of Object.entries(this.warncells)) {
      const deviceId = warningDeviceId(org);
      if (!this.o.devices.get(deviceId)) continue;
      const times = [...boundariesBetween(this.alerts, cell, from, now).filter((t) => t < now), now];
      let prev = this.last.get(org);
      for (const t of times) {
        const levels = this.levels(cell, t);
        const changed = !prev || DWD_WARNING_METRICS.some((m) => prev?.levels[m] !== levels[m]);
        const beat = t === now && prev !== undefined && now - prev.writtenAt >= HEARTBEAT_MS && this.healthy(now);
        if (!changed && !beat) continue;
        for (const metric of DWD_WARNING_METRICS) readings.push({ deviceId, metric, time: t, value: levels[metric], quality: 0 });
        prev = { levels, writtenAt: t };
      }
      if (prev) this.last.set(org, prev);
    }
    this.lastEvalAt = now;
    if (readings.length) await this.o.store(readings);
  }

  private levels(cell: string, t: number): Levels {
    const l = levelsAt(this.alerts, cell, t);
    return { dwd_warning_level: l.dwd_warning_level, dwd_starkregen_level: l.dwd_starkregen_level, dwd_dauerregen_level: l.dwd_dauerregen_level };
  }

  status(): WarningFeedStatus {
    const now = this.o.now();
    const inForce: WarningFeedStatus['inForce'] = {};
    for (const [org, cell] of Object.entries(this.warncells)) {
      inForce[org] = levelsAt(this.alerts, cell, now).alerts.map((a) => ({
        warncell: cell,
        level: { Minor: 1, Moderate: 2, Severe: 3, Extreme: 4 }[a.severity],
        event: a.event,
        headline: a.headline,
        onset: new Date(a.onset).toISOString(),
        expires: iso(a.expires),
      }));
    }
    return {
      lastSuccessAt: iso(this.lastOkAt),
      lastSnapshotAt: iso(this.lastSnapshotAt),
      lastError: this.lastError && { at: new Date(this.lastError.at).toISOString(), message: this.lastError.message },
      healthy: this.healthy(now),
      inForce,
      rejectedFiles: this.problems,
    };
  }
}
