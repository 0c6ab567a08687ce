// A clogged funnel or a stuck tipping bucket counts nothing while it keeps reporting, so no rule can tell its
// 0 mm from a dry hour [docs/reference/domain.md 4.1 "zero tips while neighbours report rain"]. Compared with the gauges that
// share a tag with it (same municipality), a gauge that reports but counts nothing while a neighbour measured
// real rain in the same hour gets a device warning; it clears once the gauge counts again or the rain is over.
import { EVALUATED_SQL } from '../../alerts/types.ts';
import type { Queryable } from '../db/db.ts';
import type { Device } from './device-registry.ts';

export const STUCK_BUCKET = 'stuck_bucket';
const WINDOW_MS = 3_600_000;
/** a neighbour's hourly rain that a working gauge nearby cannot have missed */
const NEIGHBOUR_MM = 5;
/** uplinks in the hour that show the gauge is alive (a silent one is the offline/stale rules' case) */
const MIN_UPLINKS = 2;
const EVERY_MS = 5 * 60_000;

export interface DeviceWarning {
  code: string;
  since: string;
  message: string;
}

interface HourOfRain {
  mm: number;
  uplinks: number;
}

/** Which gauges look stuck now, each with the message a duty officer reads. */
export function stuckGauges(devices: Device[], hour: Map<string, HourOfRain>): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of devices) {
    const own = hour.get(d.id);
    if (!own || own.mm > 0 || own.uplinks < MIN_UPLINKS) continue;
    for (const [k, v] of Object.entries(d.tags)) {
      const wet = devices
        .filter((n) => n.id !== d.id && n.org === d.org && n.tags[k] === v && (hour.get(n.id)?.mm ?? 0) >= NEIGHBOUR_MM)
        .map((n) => `${n.name} (${n.id}) ${fmt(hour.get(n.id)?.mm ?? 0)} mm`);
      if (!wet.length) continue;
      out.set(d.id, `Regenschreiber zählt nicht: 0 mm in 1 h bei ${own.uplinks} Meldungen, im selben Gebiet (${k}=${v}) ${wet.slice(0, 3).join(', ')}`);
      break;
    }
  }
  return out;
}

const fmt = (mm: number) => String(Math.round(mm * 10) / 10).replace('.', ',');

/** Runs the comparison at most every 5 min of the scheduler's clock and keeps `device_health.warnings` current. */
export class StuckBucketWatch {
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    private db: Queryable,
    private devices: () => Device[],
  ) {}

  async run(now: number): Promise<void> {
    if (now - this.last < EVERY_MS) return;
    this.last = now;
    const r = await this.db.query<{ device_id: string; mm: number | null; n: number }>(
      `select device_id, sum(value) filter (where ${EVALUATED_SQL}) as mm, count(*)::int as n
       from readings where metric = 'rain_mm' and time > $1 and time <= $2 group by device_id`,
      [new Date(now - WINDOW_MS), new Date(now)],
    );
    const hour = new Map(r.rows.map((x) => [x.device_id, { mm: Number(x.mm ?? 0), uplinks: x.n }]));
    const stuck = stuckGauges(this.devices(), hour);
    const cur = await this.db.query<{ device_id: string; warnings: DeviceWarning[] }>(
      `select device_id, warnings from device_health where warnings @> $1::jsonb`,
      [JSON.stringify([{ code: STUCK_BUCKET }])],
    );
    const had = new Map(cur.rows.map((x) => [x.device_id, x.warnings]));
    const since = new Date(now).toISOString();
    for (const [id, message] of stuck) {
      const keep = (had.get(id) ?? []).find((w) => w.code === STUCK_BUCKET);
      await this.setWarning(id, { code: STUCK_BUCKET, since: keep?.since ?? since, message });
    }
    for (const id of had.keys()) if (!stuck.has(id)) await this.setWarning(id, undefined);
  }

  private async setWarning(deviceId: string, w: DeviceWarning | undefined) {
    await this.db.query(
      `insert into device_health(device_id, warnings) select id, $2::jsonb from devices where id = $1
       on conflict (device_id) do update set warnings =
         (select coalesce(jsonb_agg(x), '[]'::jsonb) from jsonb_array_elements(device_health.warnings) x where x->>'code' <> $3) || $2::jsonb`,
      [deviceId, JSON.stringify(w ? [w] : []), STUCK_BUCKET],
    );
  }
}
