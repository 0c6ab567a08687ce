// Twilio's callbacks of a voice call (route target `call`): the call's progress stored on its attempt and
// shown on the alarm (a call nobody took also as an alarm event, once), and the key pressed during the call —
// 1 acknowledges the alarm in the route target's name. [issue 16] [docs/formats.md Voice call]
import type { Logger } from 'pino';
import { CALL_NOT_ANSWERED, gatherAnswer } from '../../alerts/channels/voice.ts';
import type { AlarmService } from '../alarms/alarm-service.ts';
import type { Queryable } from '../db/db.ts';
import { CallStore } from './call-store.ts';

export class VoiceCalls {
  private readonly store: CallStore;
  constructor(
    db: Queryable,
    private alarms: AlarmService,
    private log: Logger,
  ) {
    this.store = new CallStore(db);
  }

  /** A status callback: false when no call of ours has this notification id. */
  async status(notificationId: string, callSid: string, status: string, errorCode?: string): Promise<boolean> {
    const c = await this.store.call(notificationId);
    if (!c) {
      this.log.info({ notificationId, status }, 'call status for a call we did not place, ignored');
      return false;
    }
    const now = new Date(this.alarms.now());
    const error = errorCode ? `Fehlercode ${errorCode}` : null;
    await this.store.report(callSid, status, error, now);
    // what became of the call: answered once it was taken; unanswered (busy, no answer, failed) is final
    const handset = CALL_NOT_ANSWERED.has(status) ? 'unanswered' : status === 'in-progress' || status === 'completed' ? 'answered' : undefined;
    if (!handset) return true;
    if ((await this.store.handset(notificationId, handset)) && handset === 'unanswered') {
      const who = c.name ? `${c.name} (${c.to})` : c.to;
      await this.store.unansweredEvent(c.alarm_id, now, `Anruf bei ${who} nicht angenommen (twilio: ${status}${error ? ` ${error}` : ''})`);
      this.log.warn({ notificationId, alarmId: c.alarm_id, status }, 'call not answered');
    }
    return true;
  }

  /** The key pressed during the call (Gather action): 1 acknowledges. Returns the TwiML to answer with. */
  async gather(notificationId: string, digits: string | undefined): Promise<string> {
    const c = await this.store.call(notificationId);
    if (!c) return gatherAnswer('unknown');
    if (digits !== '1') {
      this.log.info({ alarmId: c.alarm_id, digits }, 'key pressed during the call was not 1, nothing acknowledged');
      return gatherAnswer('other_key');
    }
    const cur = await this.alarms.acknowledge(c.alarm_id, c.name ?? c.to, `per Anruf (Taste 1) an ${c.to}`);
    if (cur === 'not_found') return gatherAnswer('unknown');
    if (cur === 'resolved' || cur === 'closed') return gatherAnswer('ended', c.alarm_id);
    if (c.state === 'acknowledged') return gatherAnswer('already', c.alarm_id);
    this.log.info({ alarmId: c.alarm_id }, 'alarm acknowledged by phone');
    return gatherAnswer('acknowledged', c.alarm_id);
  }
}
