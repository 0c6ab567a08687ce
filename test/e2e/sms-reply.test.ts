// Acknowledge by SMS reply end to end: alarms over MQTT, SMS through a local Twilio stand-in; the recipient
// answers through Twilio's signed inbound webhook (answered with TwiML) or seven's signed sms_mo webhook
// (answered by a new SMS). "OK 17", "Q 17", "OK" with one open alarm acknowledge in the route target's name;
// unknown numbers and other texts get the help text and acknowledge nothing. [issue 16]
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock, Harness, HOUR, pastStart } from '../helpers/alarms.ts';
import { fakeSeven, fakeTwilio, postSeven, postTwilio, SEVEN_KEY, TWILIO_SID, TWILIO_TOKEN } from '../helpers/fake-providers.ts';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

const SEVEN_SECRET = 'seven-signing-secret-2';

describe('acknowledge by SMS reply', () => {
  let s: TestSystem;
  let h: Harness;
  let seven: Awaited<ReturnType<typeof fakeSeven>>;
  let twilio: Awaited<ReturnType<typeof fakeTwilio>>;
  const clock = new Clock(pastStart(48 * HOUR));
  let n = 0;

  beforeAll(async () => {
    seven = await fakeSeven();
    twilio = await fakeTwilio();
    s = await startSystem({
      store: 'pg',
      now: clock.now,
      env: {
        SMS_PROVIDER: 'twilio',
        SMS_PROVIDERS: 'twilio,seven',
        TWILIO_ACCOUNT_SID: TWILIO_SID,
        TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
        TWILIO_FROM: '+4930123456',
        TWILIO_BASE_URL: twilio.url,
        SEVEN_API_KEY: SEVEN_KEY,
        SEVEN_BASE_URL: seven.url,
        SEVEN_WEBHOOK_SECRET: SEVEN_SECRET,
      },
    });
    h = new Harness(s, clock);
  });
  afterAll(async () => {
    h?.close();
    await s?.close();
    await seven?.close();
    await twilio?.close();
  });

  /** An alarm over MQTT whose SMS went to `to` (named Zugführer Meier in the route). */
  async function alarmFor(to: string): Promise<string> {
    const dev = `rep${++n}`;
    clock.set(clock.t + HOUR);
    await h.device(dev);
    await h.rule({
      name: `Pegel ${dev}`,
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: [dev] },
      levels: [{ severity: 'severe', threshold: 100 }],
      expectedInterval: '7d',
    });
    await h.route({ name: `Wehr ${dev}`, match: { minSeverity: 'moderate', deviceIds: [dev] }, targets: [{ type: 'sms', to, name: 'Zugführer Meier' }] });
    const before = twilio.sms.filter((m) => m.to === to).length;
    await h.send(dev, clock.t, { level_cm: 120 });
    await waitFor(() => twilio.sms.filter((m) => m.to === to).length > before, 8000, 'sms');
    return (await h.alarms({ deviceId: dev }))[0].id;
  }
  let sid = 0;
  const twilioReply = async (from: string, body: string) => {
    const r = await postTwilio(`${s.httpUrl}/hooks/twilio/sms-inbound`, {
      From: from,
      To: '+4930123456',
      Body: body,
      MessageSid: `SMin${++sid}`,
      AccountSid: TWILIO_SID,
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/xml/);
    return r.text();
  };
  const state = async (id: string) => {
    const a = await h.alarm(id);
    return { state: a.state, by: (a as unknown as { acknowledgedBy: string | null }).acknowledgedBy };
  };

  it('"OK" with two alarms open asks for the number; "OK 17" acknowledges that one in the route target’s name (TwiML answer)', async () => {
    const to = '+4917100000101';
    const a1 = await alarmFor(to);
    const a2 = await alarmFor(to);
    const ambiguous = await twilioReply(to, 'OK');
    expect(ambiguous).toContain(`Mehrere Alarme offen (${a2}, ${a1})`);
    expect((await state(a1)).state).toBe('firing');
    expect((await state(a2)).state).toBe('firing');
    const done = await twilioReply(to, `OK ${a1}`);
    expect(done).toBe(`<?xml version="1.0" encoding="UTF-8"?><Response><Message>Regenwacht: Alarm ${a1} quittiert. Danke.</Message></Response>`);
    expect(await state(a1)).toEqual({ state: 'acknowledged', by: 'Zugführer Meier' });
    expect((await h.alarm(a1)).events.at(-1)).toMatchObject({ kind: 'acknowledged', actor: 'Zugführer Meier' });
    expect((await state(a2)).state).toBe('firing');
    // now only one is open: a bare "ok" acknowledges it
    expect(await twilioReply(to, ' ok ')).toContain(`Alarm ${a2} quittiert`);
    expect(await state(a2)).toEqual({ state: 'acknowledged', by: 'Zugführer Meier' });
    expect(await twilioReply(to, `Q ${a2}`)).toContain(`Alarm ${a2} war bereits quittiert`);
  });

  it('"Q 17" through seven’s signed sms_mo webhook acknowledges, and the answer goes back by SMS; a forged one is refused', async () => {
    const to = '+4917100000102';
    const a = await alarmFor(to);
    const mo = (text: string, id: string) => ({
      webhook_event: 'sms_mo',
      webhook_timestamp: '2026-11-30 10:40:00',
      data: { id, message_type: 'SMS', sender: to.slice(1), system: '4930123456', text, time: '1796035200' },
    });
    expect((await postSeven(`${s.httpUrl}/hooks/seven`, mo(`Q ${a}`, '501'), 'wrong-secret')).status).toBe(403);
    expect((await state(a)).state).toBe('firing');
    const r = await postSeven(`${s.httpUrl}/hooks/seven`, mo(`Q ${a}`, '502'), SEVEN_SECRET);
    expect(r.status).toBe(200);
    expect(await state(a)).toEqual({ state: 'acknowledged', by: 'Zugführer Meier' });
    const [answer] = await waitFor(
      () => {
        const got = seven.sms.filter((m) => m.to === to);
        return got.length > 0 && got;
      },
      5000,
      'answer',
    );
    expect(answer.text).toBe(`Regenwacht: Alarm ${a} quittiert. Danke.`);
    // seven repeats a webhook it thinks failed: handled once
    await postSeven(`${s.httpUrl}/hooks/seven`, mo(`Q ${a}`, '502'), SEVEN_SECRET);
    expect(seven.sms.filter((m) => m.to === to)).toHaveLength(1);
  });

  it('an unknown number and a text that is no acknowledgement get the help text and acknowledge nothing', async () => {
    const to = '+4917100000103';
    const a = await alarmFor(to);
    expect(await twilioReply('+4917199999999', `OK ${a}`)).toContain('antworten Sie mit OK und der Alarmnummer, z.B. "OK 17"');
    expect(await twilioReply(to, 'Bin unterwegs')).toContain('Zum Quittieren antworten Sie mit OK');
    expect(await twilioReply(to, 'OK 99999')).toContain('Zum Quittieren');
    expect((await state(a)).state).toBe('firing');
    // an unsigned request is refused
    const forged = await fetch(`${s.httpUrl}/hooks/twilio/sms-inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `From=${encodeURIComponent(to)}&Body=OK`,
    });
    expect(forged.status).toBe(403);
    expect((await state(a)).state).toBe('firing');
  });
});
