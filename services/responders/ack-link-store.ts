// Acknowledge links: one unguessable token per message to a person (PUBLIC_URL/q/<token>), kept in the
// database so every instance can answer it, single use, and worthless once its alarm has ended. [issue 16]
import crypto from 'node:crypto';
import type { Target } from '../../alerts/channels/types.ts';
import type { Queryable } from '../db/db.ts';

/** 96 random bits, 16 characters of base64url: short enough for an SMS, far beyond guessing. */
export const newAckToken = () => crypto.randomBytes(12).toString('base64url');
export const ACK_TOKEN = /^[A-Za-z0-9_-]{16}$/;

export interface AckLink {
  token: string;
  alarmId: string;
  recipient: string;
  channel: string;
  usedAt: string | null;
}

/** The name the route gives the person, else their number or address. */
export function recipientOf(t: Target): string {
  if (t.type === 'webhook') return t.url;
  return t.name ?? t.to;
}

export class AckLinkStore {
  constructor(private db: Queryable) {}

  /** The token of this message's link: made on its first attempt, the same on every retry or resend. */
  async tokenFor(n: { id: string; alarm_id: number | string; target: Target }, now: number): Promise<string> {
    const r = await this.db.query<{ token: string }>(
      `with ins as (insert into ack_links(token, notification_id, alarm_id, recipient, channel, created_at)
                    values ($1, $2, $3::bigint, $4, $5, $6) on conflict (notification_id) do nothing returning token)
       select token from ins union all select token from ack_links where notification_id = $2`,
      [newAckToken(), n.id, String(n.alarm_id), recipientOf(n.target), n.target.type, new Date(now)],
    );
    return r.rows[0].token;
  }

  async find(token: string): Promise<AckLink | undefined> {
    if (!ACK_TOKEN.test(token)) return undefined;
    const r = await this.db.query<{ token: string; alarm_id: string; recipient: string; channel: string; used_at: Date | null }>(
      'select token, alarm_id::text as alarm_id, recipient, channel, used_at from ack_links where token = $1',
      [token],
    );
    const x = r.rows[0];
    return (
      x && { token: x.token, alarmId: x.alarm_id, recipient: x.recipient, channel: x.channel, usedAt: x.used_at ? new Date(x.used_at).toISOString() : null }
    );
  }

  /** Marks the link used; false when it already was (a second tap, or two taps at once). */
  async use(token: string, now: number): Promise<boolean> {
    const r = await this.db.query('update ack_links set used_at = $2 where token = $1 and used_at is null returning token', [token, new Date(now)]);
    return r.rows.length === 1;
  }

  /** Gives the link back when the acknowledgement did not happen (the alarm ended in between). */
  async release(token: string): Promise<void> {
    await this.db.query('update ack_links set used_at = null where token = $1', [token]);
  }
}
