// The words of an alarm call and the TwiML that carries them. [issue 16]
import { describe, expect, it } from 'vitest';
import { samplePayload } from './test-fixtures.ts';
import { callText, callTwiml, callWanted, gatherAnswer } from './voice.ts';

describe('voice call', () => {
  it('says the SMS facts with units and ids made speakable', () => {
    expect(callText(samplePayload())).toBe(
      'Regenwacht. UNWETTER Stufe 3: HEFTIGER STARKREGEN, 28,8 Millimeter Regen in einer Stunde an Pegel Gießen-Nord seit 14:05. Alarm Nummer 123',
    );
  });

  it('TwiML: the text twice inside a one-digit Gather, names with markup escaped', () => {
    const x = callTwiml(samplePayload('alarm.firing', { deviceName: 'Pegel <Lahn> & Ohm' }), {
      gatherUrl: 'https://rw.example/hooks/twilio/call-gather?n=msg_1',
    });
    expect(x.startsWith('<?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1"')).toBe(true);
    expect(x).toContain('action="https://rw.example/hooks/twilio/call-gather?n=msg_1"');
    expect(x.match(/Pegel &lt;Lahn&gt; &amp; Ohm/g)).toHaveLength(2);
    expect(x).toContain('<Say language="de-DE">Drücken Sie 1 zum Quittieren.</Say></Gather>');
    expect(x).not.toMatch(/<Lahn>/);
  });

  it('rings only for events that ask for action', () => {
    expect(['alarm.firing', 'alarm.escalated', 'alarm.reminder', 'alarm.escalated_unacknowledged'].every((t) => callWanted(t as never))).toBe(true);
    expect(['alarm.acknowledged', 'alarm.resolved', 'alarm.closed', 'alarm.deescalated', 'alarm.stale'].some((t) => callWanted(t as never))).toBe(false);
    expect(gatherAnswer('acknowledged', '17')).toContain('Alarm 17 ist quittiert. Danke.');
  });
});
