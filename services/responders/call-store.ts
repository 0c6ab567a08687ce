// SQL of voice calls: the call a callback names, Twilio's status on the attempt, what became of the call on
// the notification, and the alarm event for a call nobody took. [issue 16]
import type { Queryable } from '../db/db.ts';
import { VOICE_PROVIDER } from '../notify/voice-call.ts';

export interface CallRow {
  alarm_id: string;
  to: string;
  name: string | null;
  handset: string | null;
  /** the alarm's state */
  state: string;
}

export class CallStore {
  constructor(private db: Queryable) {}

  async call(notificationId: string): Promise<CallRow | undefined> {
    const r = await this.db.query<CallRow>(
      `select n.alarm_id::text as alarm_id, n.target->>'to' as to, n.target->>'name' as name, n.handset, a.state
       from notifications n join alarms a on a.id = n.alarm_id where n.id = $1 and n.channel = 'call'`,
      [notificationId],
    );
    return r.rows[0];
  }

  async report(callSid: string, status: string, error: string | null, at: Date): Promise<void> {
    await this.db.query(
      `update notification_attempts set report_status = $3, report_error = $4, report_at = $5 where provider = $1 and provider_message_id = $2`,
      [VOICE_PROVIDER, callSid, status, error, at],
    );
  }

  /** answered stays answered; true when the state changed */
  async handset(notificationId: string, handset: 'answered' | 'unanswered'): Promise<boolean> {
    const r = await this.db.query(
      `update notifications set handset = $2 where id = $1 and handset is distinct from $2 and handset is distinct from 'answered' returning id`,
      [notificationId, handset],
    );
    return r.rows.length > 0;
  }

  async unansweredEvent(alarmId: string, at: Date, comment: string): Promise<void> {
    await this.db.query(
      `insert into alarm_events(alarm_id, at, kind, severity, value, threshold, comment)
       select id, $2, 'call_unanswered', severity, value, threshold, $3 from alarms where id = $1::bigint`,
      [alarmId, at, comment],
    );
  }
}
