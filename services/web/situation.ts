// The Lagebild's data: stations with the colour of their worst open alarm, and the alarm board. Everything
// comes from the device registry and the alarm service the JSON API uses; only "last seen" is kept here,
// read once from the uplinks and then followed live.
import { OFFLINE_METRIC } from '../../alerts/rules/rule-types.ts';
import { type Alarm, isSeverity, type Severity, severityRank } from '../../alerts/types.ts';
import { orgFilter, sees } from '../api/auth.ts';
import type { Principal } from '../auth/token-store.ts';
import type { WebDeps } from './context.ts';

import { STALE_MS } from './feed.ts';

export { STALE_MS };

export type StationStatus = 'ok' | Severity | 'offline';

export interface StationView {
  id: string;
  name: string;
  org: string;
  lat: number | null;
  lon: number | null;
  status: StationStatus;
  /** epoch ms of the newest reading, null when never seen */
  lastSeen: number | null;
  openAlarms: number;
}

export interface BoardFilters {
  org: string;
  severity: '' | Severity;
  state: 'active' | 'firing' | 'acknowledged';
}

export function parseFilters(q: Record<string, string | undefined>): BoardFilters {
  const sev = q.severity;
  const state = q.state;
  return {
    org: q.org && /^[a-z0-9-]{1,40}$/.test(q.org) ? q.org : '',
    severity: isSeverity(sev) ? sev : '',
    state: state === 'firing' || state === 'acknowledged' ? state : 'active',
  };
}

const hydrated = new WeakSet<object>();

/** Last-seen times from the uplinks table once per process (one index lookup per device), then from the live feed. */
async function hydrateLastSeen(d: WebDeps): Promise<void> {
  if (hydrated.has(d.feed)) return;
  const r = await d.ctx.db.query<{ id: string; t: Date | null }>('select d.id, (select max(time) from uplinks u where u.device_id = d.id) as t from devices d');
  for (const row of r.rows) {
    if (!row.t) continue;
    const t = new Date(row.t).getTime();
    if (t > (d.feed.lastSeen.get(row.id) ?? -Infinity)) d.feed.lastSeen.set(row.id, t);
  }
  hydrated.add(d.feed);
}

/** Open (active-mode) alarms the principal may see, newest first, from the alarm service. */
export async function openAlarms(d: WebDeps, p: Principal): Promise<Alarm[]> {
  if (!d.ctx.alarms) return [];
  return (await d.ctx.alarms.list({ state: 'active', mode: 'active', limit: 1000, org: orgFilter(p) })).filter((a) => a.mode === 'active');
}

export function stationStatus(alarms: Alarm[], lastSeen: number | null, now: number): StationStatus {
  if (alarms.some((a) => a.metric === OFFLINE_METRIC)) return 'offline';
  let worst: Severity | undefined;
  for (const a of alarms) if (!worst || severityRank(a.severity) > severityRank(worst)) worst = a.severity;
  if (worst) return worst;
  if (lastSeen === null || now - lastSeen > STALE_MS) return 'offline';
  return 'ok';
}

export async function stations(d: WebDeps, p: Principal, org: string, alarms: Alarm[], now = Date.now()): Promise<StationView[]> {
  await hydrateLastSeen(d);
  const byDevice = new Map<string, Alarm[]>();
  for (const a of alarms) byDevice.set(a.deviceId, [...(byDevice.get(a.deviceId) ?? []), a]);
  return d.ctx.devices
    .list()
    .filter((x) => sees(p, x.org) && (!org || x.org === org))
    .map((x) => {
      const own = byDevice.get(x.id) ?? [];
      const seen = d.feed.lastSeen.get(x.id) ?? null;
      return {
        id: x.id,
        name: x.name,
        org: x.org,
        lat: x.location?.lat ?? null,
        lon: x.location?.lon ?? null,
        status: stationStatus(own, seen, now),
        lastSeen: seen,
        openAlarms: own.length,
      };
    });
}

/** Board order: most severe first, then newest. */
export function boardAlarms(alarms: Alarm[], f: BoardFilters, orgOf: (deviceId: string) => string | undefined): Alarm[] {
  return alarms
    .filter((a) => (!f.org || orgOf(a.deviceId) === f.org) && (!f.severity || a.severity === f.severity) && (f.state === 'active' || a.state === f.state))
    .sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || Date.parse(b.startedAt) - Date.parse(a.startedAt) || Number(b.id) - Number(a.id));
}

/** Municipality outlines drawn from device locations (convex hull, a small box around one or two points). */
export function outlines(st: StationView[]): { org: string; points: [number, number][] }[] {
  const byOrg = new Map<string, [number, number][]>();
  for (const s of st) if (s.lat !== null && s.lon !== null) byOrg.set(s.org, [...(byOrg.get(s.org) ?? []), [s.lon, s.lat]]);
  const out = [];
  for (const [org, pts] of byOrg) {
    const pad = 0.005;
    const xs = pts.flatMap(([x, y]) => [
      [x - pad, y - pad],
      [x + pad, y - pad],
      [x + pad, y + pad],
      [x - pad, y + pad],
    ]) as [number, number][];
    out.push({ org, points: hull(xs).map(([x, y]) => [y, x] as [number, number]) });
  }
  return out;
}

/** Andrew's monotone chain. */
function hull(p: [number, number][]): [number, number][] {
  const pts = [...p].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts;
  const cross = (o: number[], a: number[], b: number[]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [];
  for (const q of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: [number, number][] = [];
  for (const q of pts.reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}
