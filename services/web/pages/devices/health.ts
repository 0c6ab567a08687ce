import { tryParseDuration } from '../../../../alerts/rules/duration.ts';
import { OFFLINE_METRIC } from '../../../../alerts/rules/rule-types.ts';
import { type Alarm, isMetric, unitOf } from '../../../../alerts/types.ts';
import type { Device } from '../../../devices/device-registry.ts';
import type { FleetRow } from '../../../devices/fleet-health.ts';
import { BUILTIN_MODELS } from '../../../ingest/codecs/index.ts';
import { STALE_MS } from '../../feed.ts';
import { type Html, html } from '../../html.ts';
import type { I18n } from '../../i18n.ts';
import type { dt } from '../../i18n-devices.ts';

export const unit = (m: string) => (isMetric(m) ? unitOf(m) : '');

export type Health = 'ok' | 'late' | 'offline' | 'never';
const MIN_LATE_MS = 15 * 60_000;

/** The device's own expectation (params.expectedInterval, e.g. "15m"), in ms. */
export const expectedMs = (d: Device): number | undefined =>
  typeof d.params.expectedInterval === 'string' ? tryParseDuration(d.params.expectedInterval) : undefined;

/** Late: silent for twice its expected interval (or three median intervals), at least 15 min; offline: grey on the map. */
export function healthOf(d: Device, row: FleetRow | undefined, alarms: Alarm[], now: number): Health {
  if (!row?.lastSeen) return 'never';
  const silent = now - row.lastSeen;
  if (alarms.some((a) => a.metric === OFFLINE_METRIC) || silent > STALE_MS) return 'offline';
  const exp = expectedMs(d);
  const limit = exp !== undefined ? 2 * exp : row.intervalMs ? 3 * row.intervalMs : undefined;
  return limit !== undefined && silent > Math.max(limit, MIN_LATE_MS) ? 'late' : 'ok';
}

const HEALTH_CLASS: Record<Health, string> = { ok: 'sev-ok', late: 'sev-minor', offline: 'sev-offline', never: 'sev-offline' };

export function healthBadge(t: ReturnType<typeof dt>, h: Health): Html {
  return html`<span class="sev ${HEALTH_CLASS[h]}" data-health="${h}">${t(`health_${h}`)}</span>`;
}

export function batteryText(i: I18n, row: FleetRow | undefined): string {
  if (!row?.battery) return '–';
  return row.battery.metric === 'battery_v' ? `${i.num(row.battery.value, 2)} V` : `${i.num(row.battery.value, 0)} %`;
}

export const radioText = (i: I18n, row: FleetRow | undefined) =>
  row && (row.rssi !== null || row.snr !== null)
    ? `${row.rssi === null ? '–' : `${i.num(row.rssi, 0)} dBm`} / ${row.snr === null ? '–' : `${i.num(row.snr, 1)} dB`}`
    : '–';

export function intervalText(i: I18n, d: Device, row: FleetRow | undefined): string {
  const exp = expectedMs(d);
  const actual = row?.intervalMs ? i.duration(row.intervalMs) : '–';
  return `${actual} / ${exp !== undefined ? i.duration(exp) : '–'}`;
}

export interface ListFilters {
  q: string;
  model: string;
  health: '' | Health;
  org: string;
}

export function parseListFilters(q: Record<string, string | undefined>): ListFilters {
  const h = q.health;
  return {
    q: (q.q ?? '').slice(0, 100),
    model: q.model && /^[a-z0-9-]{1,40}$/.test(q.model) ? q.model : '',
    health: h === 'ok' || h === 'late' || h === 'offline' || h === 'never' ? h : '',
    org: q.org && /^[a-z0-9-]{1,40}$/.test(q.org) ? q.org : '',
  };
}

export const ALL_MODELS = ['generic', 'js-codec', ...BUILTIN_MODELS];
