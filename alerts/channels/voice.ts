// Voice calls for the highest levels (route target `call`, Twilio Programmable Voice): the SMS's facts said
// twice in German, then "Drücken Sie 1 zum Quittieren". Only events that ask for action ring a phone; an
// acknowledgement, all-clear or closing never does. [issue 16] [README.md Voice call]
import { alarmSentence } from './sms-text.ts';
import type { NotificationEventType, NotificationPayload } from './types.ts';
import { esc } from './xml.ts';

/** Events a call is placed for (the others go to the route's other targets only). */
export const CALL_EVENTS: ReadonlySet<NotificationEventType> = new Set(['alarm.firing', 'alarm.escalated', 'alarm.reminder', 'alarm.escalated_unacknowledged']);

export const callWanted = (type: NotificationEventType): boolean => CALL_EVENTS.has(type);

const SPOKEN: Array<[RegExp, string]> = [
  [/ \([^)]*\)/g, ''], // the device id in brackets: noise when read out
  [/(\d) mm\/h\b/g, '$1 Millimeter pro Stunde'],
  [/(\d) mm\b/g, '$1 Millimeter'],
  [/(\d) cm\b/g, '$1 Zentimeter'],
  [/\b1 h\b/g, 'einer Stunde'],
  [/(\d+) h\b/g, '$1 Stunden'],
  [/(\d+) min\b/g, '$1 Minuten'],
  [/\bAlarm (\d+)/g, 'Alarm Nummer $1'],
];

/** What is said: the SMS text (without link), units and ids made speakable. */
export function callText(payload: NotificationPayload): string {
  let t = `Regenwacht. ${alarmSentence(payload)}`;
  for (const [re, by] of SPOKEN) t = t.replace(re, by);
  return t.replace(/\s+/g, ' ').trim();
}

/**
 * The TwiML the call plays: the text twice inside a <Gather> for one digit, whose answer Twilio posts to
 * `gatherUrl`; without a key pressed it says goodbye and hangs up.
 */
export function callTwiml(payload: NotificationPayload, o: { gatherUrl: string }): string {
  const say = (t: string) => `<Say language="de-DE">${esc(t)}</Say>`;
  const text = callText(payload);
  return (
    '<?xml version="1.0" encoding="UTF-8"?><Response>' +
    `<Gather numDigits="1" timeout="8" method="POST" action="${esc(o.gatherUrl)}">` +
    `${say(text)}<Pause length="1"/>${say(text)}${say('Drücken Sie 1 zum Quittieren.')}` +
    '</Gather>' +
    `${say('Keine Eingabe. Der Alarm ist nicht quittiert. Auf Wiederhören.')}` +
    '</Response>'
  );
}

/** The answer to a key pressed during the call. */
export function gatherAnswer(outcome: 'acknowledged' | 'already' | 'ended' | 'other_key' | 'unknown', alarmId?: string): string {
  const words = {
    acknowledged: `Alarm ${alarmId ?? ''} ist quittiert. Danke.`,
    already: `Alarm ${alarmId ?? ''} war bereits quittiert.`,
    ended: `Alarm ${alarmId ?? ''} ist bereits beendet.`,
    other_key: 'Keine gültige Eingabe. Der Alarm ist nicht quittiert.',
    unknown: 'Dieser Anruf ist nicht bekannt.',
  }[outcome].replace(/\s+/g, ' ');
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Say language="de-DE">${esc(words)}</Say><Hangup/></Response>`;
}

/** Twilio's final call states that mean nobody took the call. */
export const CALL_NOT_ANSWERED: ReadonlySet<string> = new Set(['busy', 'failed', 'no-answer', 'canceled']);
