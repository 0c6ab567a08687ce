// Reading back the rejected uplinks the writer stores (writer.ts writeRejections). [docs/topics.md Rejected uplinks]
import type { Queryable } from '../db/db.ts';

export interface RejectedUplink {
  id: number;
  time: string;
  topic: string;
  reason: string;
  message: string;
  deviceId: string | null;
  org: string | null;
  clientId: string | null;
  payload: string;
  payloadEncoding: string;
  payloadBytes: number;
}

export interface RejectedFilter {
  since?: string;
  reason?: string;
  deviceId?: string;
  limit: number;
  /** a municipality sees the rejections stamped with its org when stored; null: every one, unknown devices' too */
  org: string | null;
}

/** Newest first. */
export async function listRejectedUplinks(q: Queryable, f: RejectedFilter): Promise<RejectedUplink[]> {
  const r = await q.query<{
    id: number;
    received_at: Date;
    topic: string;
    payload: string;
    payload_encoding: string;
    payload_bytes: number;
    reason: string;
    message: string;
    device_id: string | null;
    client_id: string | null;
    org: string | null;
  }>(
    `select * from rejected_uplinks where ($1::timestamptz is null or received_at >= $1) and ($2::text is null or reason = $2)
     and ($3::text is null or device_id = $3) and ($5::text is null or org = $5) order by id desc limit $4`,
    [f.since ?? null, f.reason ?? null, f.deviceId ?? null, f.limit, f.org],
  );
  return r.rows.map((x) => ({
    id: x.id,
    time: new Date(x.received_at).toISOString(),
    topic: x.topic,
    reason: x.reason,
    message: x.message,
    deviceId: x.device_id,
    org: x.org,
    clientId: x.client_id,
    payload: x.payload,
    payloadEncoding: x.payload_encoding,
    payloadBytes: x.payload_bytes,
  }));
}
