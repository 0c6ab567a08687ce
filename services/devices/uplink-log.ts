// A device's recent traffic for the console's live view: accepted uplinks with the readings they gave, and
// rejected ones with their reason. Read by id/receive time, so another process's ingest shows up too.
import type { Queryable } from '../db/db.ts';

export interface UplinkEntry {
  kind: 'uplink';
  /** receive time, epoch ms (the cursor of the live view) */
  receivedAt: number;
  time: number;
  source: string;
  fCnt: number | null;
  fPort: number | null;
  rssi: number | null;
  snr: number | null;
  values: { metric: string; value: number; quality: number }[];
}

export interface RejectionEntry {
  kind: 'rejected';
  id: number;
  receivedAt: number;
  topic: string;
  reason: string;
  message: string;
  payload: string;
  payloadEncoding: string;
}

/** Accepted uplinks received after `after` (epoch ms), newest first. */
export async function uplinksOf(db: Queryable, deviceId: string, after: number, limit: number): Promise<UplinkEntry[]> {
  const r = await db.query<{
    time: Date;
    received_at: Date;
    source: string;
    f_cnt: string | null;
    f_port: number | null;
    rssi: number | null;
    snr: number | null;
    values: { metric: string; value: number; quality: number }[] | null;
  }>(
    `select u.time, u.received_at, u.source, u.f_cnt, u.f_port, u.rssi, u.snr,
       (select json_agg(json_build_object('metric', metric, 'value', value, 'quality', quality) order by metric)
          from readings r where r.device_id = u.device_id and r.time = u.time) as values
     from uplinks u where u.device_id = $1 and u.received_at > $2 order by u.received_at desc limit $3`,
    [deviceId, new Date(after), limit],
  );
  return r.rows.map((x) => ({
    kind: 'uplink',
    receivedAt: new Date(x.received_at).getTime(),
    time: new Date(x.time).getTime(),
    source: x.source,
    fCnt: x.f_cnt === null ? null : Number(x.f_cnt),
    fPort: x.f_port,
    rssi: x.rssi,
    snr: x.snr,
    values: x.values ?? [],
  }));
}

/**
 * Rejections of the device with id > `afterId`, newest first; `org` (a municipality's user) only those stamped
 * with its org when stored, as GET /api/v1/rejected-uplinks answers.
 */
export async function rejectionsOf(
  db: Queryable,
  f: { deviceId: string; afterId: number; org: string | null; reason?: string; limit: number },
): Promise<RejectionEntry[]> {
  const r = await db.query<{ id: string; received_at: Date; topic: string; reason: string; message: string; payload: string; payload_encoding: string }>(
    `select id, received_at, topic, reason, message, payload, payload_encoding from rejected_uplinks
     where device_id = $1 and id > $2 and ($3::text is null or org = $3) and ($4::text is null or reason = $4) order by id desc limit $5`,
    [f.deviceId, f.afterId, f.org, f.reason ?? null, f.limit],
  );
  return r.rows.map((x) => ({
    kind: 'rejected',
    id: Number(x.id),
    receivedAt: new Date(x.received_at).getTime(),
    topic: x.topic,
    reason: x.reason,
    message: x.message,
    payload: x.payload.slice(0, 512),
    payloadEncoding: x.payload_encoding,
  }));
}
