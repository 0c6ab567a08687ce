// Acknowledging by replying to the SMS: "OK 17", "Q 17", or just "OK" when one alarm is open for that
// number. Anything else is not an acknowledgement. [issue 16]

export type Reply = { kind: 'ack'; alarmId?: string } | { kind: 'unknown' };

const ACK = /^\s*(ok|q)\s*#?\s*(\d{1,18})?\s*[.!]?\s*$/i;

export function parseReply(text: string): Reply {
  const m = ACK.exec(text);
  if (!m) return { kind: 'unknown' };
  return m[2] ? { kind: 'ack', alarmId: String(BigInt(m[2])) } : { kind: 'ack' };
}

export const HELP_TEXT = 'Regenwacht: Zum Quittieren antworten Sie mit OK und der Alarmnummer, z.B. "OK 17".';

export function replyText(o: { outcome: string; alarmId?: string; open?: string[] }): string {
  switch (o.outcome) {
    case 'acknowledged':
      return `Regenwacht: Alarm ${o.alarmId} quittiert. Danke.`;
    case 'already_acknowledged':
      return `Regenwacht: Alarm ${o.alarmId} war bereits quittiert.`;
    case 'ended':
      return `Regenwacht: Alarm ${o.alarmId} ist beendet.`;
    case 'ambiguous':
      return `Regenwacht: Mehrere Alarme offen (${(o.open ?? []).slice(0, 6).join(', ')}). Antworten Sie mit OK und der Alarmnummer.`;
    default:
      return HELP_TEXT;
  }
}
