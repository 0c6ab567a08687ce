// An SMS reply from a recipient: "OK 17" acknowledges alarm 17 if that number was told about it; "OK"
// alone acknowledges the one open alarm the number was told about. Unknown numbers and unparseable texts
// are logged and answered with the help text, never acknowledged. Each reply is kept with its outcome. [issue 16]
import type { Logger } from 'pino';
import { parseReply, replyText } from '../../alerts/channels/sms-reply.ts';
import type { AlarmService } from '../alarms/alarm-service.ts';
import type { Queryable } from '../db/db.ts';

export interface InboundSms {
  provider: 'twilio' | 'seven';
  messageId?: string;
  from: string;
  text: string;
}

export class SmsReplies {
  constructor(
    private db: Queryable,
    private alarms: AlarmService,
    private log: Logger,
  ) {}

  /** Returns the answer to send back, or undefined for a provider's repeat of a reply already handled. */
  async handle(m: InboundSms): Promise<string | undefined> {
    const now = new Date(this.alarms.now());
    const ins = await this.db.query<{ id: string }>(
      `insert into inbound_sms(provider, provider_message_id, sender, body, received_at, outcome) values ($1,$2,$3,$4,$5,'received')
       on conflict (provider, provider_message_id) where provider_message_id is not null do nothing returning id::text`,
      [m.provider, m.messageId ?? null, m.from, m.text.slice(0, 1600), now],
    );
    const rowId = ins.rows[0]?.id;
    if (!rowId) return undefined;
    const r = await this.decide(m);
    await this.db.query('update inbound_sms set outcome = $2, alarm_id = $3::bigint where id = $1::bigint', [rowId, r.outcome, r.alarmId ?? null]);
    const log = { provider: m.provider, from: m.from, alarmId: r.alarmId, outcome: r.outcome };
    if (r.outcome === 'acknowledged') this.log.info(log, 'alarm acknowledged by SMS reply');
    else this.log.warn({ ...log, text: m.text.slice(0, 160) }, 'SMS reply did not acknowledge');
    return replyText(r);
  }

  private async decide(m: InboundSms): Promise<{ outcome: string; alarmId?: string; open?: string[] }> {
    // whom this number is, per alarm it was told about: the route target's name
    const told = await this.db.query<{ alarm_id: string; name: string | null; state: string }>(
      `select distinct on (n.alarm_id) n.alarm_id::text as alarm_id, n.target->>'name' as name, a.state
       from notifications n join alarms a on a.id = n.alarm_id
       where n.channel = 'sms' and n.target->>'to' = $1 order by n.alarm_id desc, n.created_at desc limit 200`,
      [m.from],
    );
    if (!told.rows.length) return { outcome: 'unknown_number' };
    const reply = parseReply(m.text);
    if (reply.kind !== 'ack') return { outcome: 'unparseable' };
    const open = told.rows.filter((x) => x.state === 'firing');
    let target = reply.alarmId ? told.rows.find((x) => x.alarm_id === reply.alarmId) : undefined;
    if (reply.alarmId && !target) return { outcome: 'not_told', alarmId: reply.alarmId };
    if (!reply.alarmId) {
      if (open.length !== 1) return { outcome: open.length ? 'ambiguous' : 'nothing_open', open: open.map((x) => x.alarm_id) };
      target = open[0];
    }
    const t = target!;
    const r = await this.alarms.acknowledge(t.alarm_id, t.name ?? m.from, `per SMS-Antwort von ${m.from}`);
    if (r === 'not_found') return { outcome: 'not_told', alarmId: t.alarm_id };
    if (r === 'resolved' || r === 'closed') return { outcome: 'ended', alarmId: t.alarm_id };
    if (t.state === 'acknowledged') return { outcome: 'already_acknowledged', alarmId: t.alarm_id };
    return { outcome: 'acknowledged', alarmId: t.alarm_id };
  }
}
