// What GET /api/v1/devices/{id} adds to a device: its last clock offset and its warnings (device_health,
// written by the ingest writer and stuck-buckets.ts). [docs/api.md Devices]
import type { Queryable } from '../db/db.ts';

export interface DeviceStatus {
  /** device − network server, seconds (negative = behind), as last seen beyond the tolerance */
  clockSkew: { seconds: number; at: string } | null;
  /** e.g. a stuck tipping bucket */
  warnings: unknown[];
}

export async function deviceStatus(q: Queryable, id: string): Promise<DeviceStatus> {
  const r = await q.query<{ clock_skew_s: number | null; clock_skew_at: Date | null; warnings: unknown[] }>(
    'select clock_skew_s, clock_skew_at, warnings from device_health where device_id = $1',
    [id],
  );
  const h = r.rows[0];
  return {
    clockSkew: h?.clock_skew_s != null && h.clock_skew_at ? { seconds: h.clock_skew_s, at: new Date(h.clock_skew_at).toISOString() } : null,
    warnings: h?.warnings ?? [],
  };
}
