// SQL of SMS delivery reports and failover: reports stored on the attempt that the provider took, the
// handset state on the notification, and the one-time move to the next provider. [issue 16]
import type { Queryable } from '../db/db.ts';

export type HandsetState = 'awaiting' | 'delivered' | 'resent' | 'undelivered';

export interface ReportedAttempt {
  notificationId: string;
  alarmId: string;
  providerIndex: number;
  handset: HandsetState | null;
  to: string;
}

export class SmsReportStore {
  constructor(private db: Queryable) {}

  /** Stores the report on the attempt with this provider message id; undefined when no attempt has it. */
  async record(provider: string, messageId: string, status: string, error: string | null, at: Date): Promise<ReportedAttempt | undefined> {
    const r = await this.db.query<{ notification_id: string; alarm_id: string; provider_index: number; handset: HandsetState | null; to: string }>(
      `with a as (update notification_attempts set report_status = $3, report_error = $4, report_at = $5
                  where provider = $1 and provider_message_id = $2 returning notification_id)
       select n.id as notification_id, n.alarm_id::text as alarm_id, n.provider_index, n.handset, n.target->>'to' as to
       from notifications n join a on a.notification_id = n.id limit 1`,
      [provider, messageId, status, error, at],
    );
    const x = r.rows[0];
    return x && { notificationId: x.notification_id, alarmId: x.alarm_id, providerIndex: x.provider_index, handset: x.handset, to: x.to };
  }

  /** A provider accepted the SMS: wait this long for its report. */
  async awaitReport(notificationId: string, due: Date): Promise<void> {
    await this.db.query(`update notifications set handset = 'awaiting', report_due_at = $2 where id = $1`, [notificationId, due]);
  }

  async delivered(notificationId: string): Promise<void> {
    await this.db.query(`update notifications set handset = 'delivered', report_due_at = null where id = $1 and handset in ('awaiting', 'undelivered')`, [
      notificationId,
    ]);
  }

  /**
   * Once only: the SMS still awaited from provider `fromIndex` goes out again through the next one. The
   * condition on state and index makes a late second report, a second sweep or another instance a no-op.
   */
  async resend(notificationId: string, fromIndex: number, now: Date): Promise<boolean> {
    const r = await this.db.query(
      `update notifications set handset = 'resent', report_due_at = null, provider_index = $2 + 1, state = 'pending',
              next_attempt_at = $3, locked_until = null, delivered_at = null
       where id = $1 and handset = 'awaiting' and provider_index = $2 returning id`,
      [notificationId, fromIndex, now],
    );
    return r.rows.length === 1;
  }

  /** No provider left: the SMS is given up as undelivered, once, with an event on its alarm. */
  async undelivered(notificationId: string, fromIndex: number, now: Date, comment: string): Promise<boolean> {
    const r = await this.db.query<{ alarm_id: string }>(
      `update notifications set handset = 'undelivered', report_due_at = null
       where id = $1 and handset = 'awaiting' and provider_index = $2 returning alarm_id::text`,
      [notificationId, fromIndex],
    );
    const row = r.rows[0];
    if (!row) return false;
    await this.db.query(
      `insert into alarm_events(alarm_id, at, kind, severity, value, threshold, comment)
       select id, $2, 'sms_undelivered', severity, value, threshold, $3 from alarms where id = $1::bigint`,
      [row.alarm_id, now, comment],
    );
    return true;
  }

  /** The provider refused or failed the send itself: the next attempt goes to the next provider, at once. */
  async afterSendError(notificationId: string, fromIndex: number, now: Date, status: number | null, error: string | null): Promise<boolean> {
    const r = await this.db.query(
      `update notifications set provider_index = $2 + 1, handset = 'resent', state = 'pending', next_attempt_at = $3, locked_until = null,
              last_status = $4, last_error = $5
       where id = $1 and provider_index = $2 returning id`,
      [notificationId, fromIndex, now, status, error],
    );
    return r.rows.length === 1;
  }

  /** SMS whose report is overdue. */
  async overdue(now: Date, limit = 100): Promise<Array<{ id: string; providerIndex: number; to: string }>> {
    const r = await this.db.query<{ id: string; provider_index: number; to: string }>(
      `select id, provider_index, target->>'to' as to from notifications where report_due_at is not null and report_due_at <= $1 order by report_due_at limit $2`,
      [now, limit],
    );
    return r.rows.map((x) => ({ id: x.id, providerIndex: x.provider_index, to: x.to }));
  }
}
