// Health of many devices at once, for the console's device list: newest uplink with its radio, the median
// uplink interval, the newest battery reading. One statement; each lateral uses the (device_id, time) keys.
import type { Queryable } from '../db/db.ts';

export interface FleetRow {
  deviceId: string;
  lastSeen: number | null;
  rssi: number | null;
  snr: number | null;
  /** median gap between the last 21 uplinks, ms */
  intervalMs: number | null;
  battery: { metric: 'battery_v' | 'battery_pct'; value: number } | null;
}

/** `org` null: every municipality's devices. */
export async function fleetHealth(db: Queryable, org: string | null): Promise<Map<string, FleetRow>> {
  const r = await db.query<{
    id: string;
    t: Date | null;
    rssi: number | null;
    snr: number | null;
    median_ms: number | null;
    b_metric: 'battery_v' | 'battery_pct' | null;
    b_value: number | null;
  }>(
    `select d.id, u.time as t, r.rssi, r.snr, iv.median_ms, b.metric as b_metric, b.value as b_value
     from devices d
     left join lateral (select time from uplinks where device_id = d.id order by time desc limit 1) u on true
     left join lateral (select rssi, snr from uplinks where device_id = d.id and (rssi is not null or snr is not null) order by time desc limit 1) r on true
     left join lateral (
       select percentile_cont(0.5) within group (order by gap) as median_ms from (
         select extract(epoch from (time - lag(time) over (order by time))) * 1000 as gap
         from (select time from uplinks where device_id = d.id order by time desc limit 21) x) g
       where gap > 0) iv on true
     left join lateral (
       select metric, value from readings where device_id = d.id and metric in ('battery_v', 'battery_pct') and quality = 0
       order by time desc limit 1) b on true
     where ($1::text is null or d.org = $1)`,
    [org],
  );
  return new Map(
    r.rows.map((x) => [
      x.id,
      {
        deviceId: x.id,
        lastSeen: x.t ? new Date(x.t).getTime() : null,
        rssi: x.rssi,
        snr: x.snr,
        intervalMs: x.median_ms === null ? null : Number(x.median_ms),
        battery: x.b_metric && x.b_value !== null ? { metric: x.b_metric, value: x.b_value } : null,
      },
    ]),
  );
}
