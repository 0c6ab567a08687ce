// On-call plans and voice calls end to end, through MQTT, on an injected clock, against a local stand-in that
// speaks Twilio's REST (Messages.json, Calls.json) and whose callbacks the test plays signed: a target's
// window switches who is told at the hour (Europe/Berlin); a route with nobody on duty tells everybody and says
// so; a `call` target rings with the alarm said twice, and pressing 1 acknowledges in the target's name; a
// call nobody took is recorded on the attempt and the alarm. [issue 16]
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTime } from '../../alerts/routing/oncall.ts';
import { Clock, Harness, MIN } from '../helpers/alarms.ts';
import { consoleSession } from '../helpers/console-session.ts';
import { fakeTwilio, postTwilio, TWILIO_SID } from '../helpers/fake-providers.ts';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

/** The instant a Europe/Berlin wall-clock time names (winter or summer time alike). */
function berlin(date: string, hhmm: string): number {
  for (const offsetH of [1, 2]) {
    const t = Date.parse(`${date}T${hhmm}:00Z`) - offsetH * 3_600_000;
    const l = localTime(t);
    if (l.date === date && l.minute === Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))) return t;
  }
  throw new Error(`${date} ${hhmm} does not exist in Berlin`);
}

interface Attempt {
  ok: boolean;
  provider?: string;
  providerMessageId?: string;
  report?: { status: string; error: string | null } | null;
}
interface Notification {
  channel: string;
  state: string;
  lastError: string | null;
  to: string;
  type: string;
  handset?: string;
  attempts: Attempt[];
}
interface Detail {
  id: string;
  state: string;
  acknowledgedBy: string | null;
  events: Array<{ kind: string; comment: string | null; actor: string | null }>;
  notifications: Notification[];
}

describe('on-call windows and voice calls (Twilio stand-in)', () => {
  let s: TestSystem;
  let h: Harness;
  let twilio: Awaited<ReturnType<typeof fakeTwilio>>;
  // four days ago (a past day, so readings are not from the future), on the Berlin calendar
  const day = localTime(Date.now() - 4 * 24 * 3_600_000).date;
  const clock = new Clock(berlin(day, '06:00'));
  const ruleFor = (devs: string[]) =>
    h.rule({
      name: `Pegel ${devs.join(' ')}`,
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: devs },
      levels: [{ severity: 'extreme', threshold: 100 }],
      expectedInterval: '7d',
    });
  const smsTo = (to: string) => twilio.sms.filter((m) => m.to === to);
  const detail = async (dev: string): Promise<Detail> => {
    const [a] = await h.alarms({ deviceId: dev });
    return a as unknown as Detail;
  };

  let cookie = '';
  /** A console page as an operator sees it (logged in through the login form). */
  async function consoleGet(path: string): Promise<string> {
    if (!cookie) {
      await s.ok('POST', '/api/v1/users', { login: 'dispo', name: 'Disponent', role: 'operator', password: 'ein-gutes-passwort' });
      cookie = await consoleSession(s.httpUrl, 'dispo', 'ein-gutes-passwort');
    }
    return (await fetch(s.httpUrl + path, { headers: { cookie } })).text();
  }

  beforeAll(async () => {
    twilio = await fakeTwilio();
    s = await startSystem({
      store: 'pg',
      now: clock.now,
      env: {
        SMS_PROVIDER: 'twilio',
        TWILIO_ACCOUNT_SID: TWILIO_SID,
        TWILIO_AUTH_TOKEN: 'twilio-test-auth-token',
        TWILIO_FROM: '+4930123456',
        TWILIO_BASE_URL: twilio.url,
      },
    });
    h = new Harness(s, clock);
  });
  afterAll(async () => {
    h?.close();
    await s?.close();
    await twilio?.close();
  });

  it('the on-call window switches the target at 07:00 Berlin time; the night officer still hears how his alarm goes on', async () => {
    for (const d of ['oc1', 'oc2']) await h.device(d);
    await ruleFor(['oc1', 'oc2']);
    const route = await s.ok('POST', '/api/v1/routes', {
      name: 'Bereitschaft',
      match: { minSeverity: 'severe', deviceIds: ['oc1', 'oc2'] },
      targets: [
        { type: 'sms', to: '+4916010000001', name: 'Tagdienst', when: { from: '07:00', to: '16:00' } },
        { type: 'sms', to: '+4916010000002', name: 'Nachtdienst', when: { from: '16:00', to: '07:00' } },
      ],
    });
    expect(route.coverageGaps).toEqual([]);
    expect(route.targets[0].when).toEqual({ from: '07:00', to: '16:00' });

    await h.send('oc1', berlin(day, '06:59'), { level_cm: 120 });
    await waitFor(() => smsTo('+4916010000002').length === 1, 8000, 'SMS to the night officer');
    await h.send('oc2', berlin(day, '07:00'), { level_cm: 130 });
    await waitFor(() => smsTo('+4916010000001').length === 1, 8000, 'SMS to the day desk');
    expect(smsTo('+4916010000002'), 'the night officer is off duty at 07:00').toHaveLength(1);
    expect(smsTo('+4916010000001')[0].text).toContain('oc2');
    expect(smsTo('+4916010000002')[0].text).toContain('oc1');

    // the acknowledgement of the 06:59 alarm goes to whom it was told, not to the day desk
    clock.set(berlin(day, '07:05'));
    await s.ok('POST', `/api/v1/alarms/${(await detail('oc1')).id}/ack`, {});
    await waitFor(() => smsTo('+4916010000002').length === 2, 8000, 'acknowledgement to the night officer');
    await h.advance(MIN);
    expect(smsTo('+4916010000001')).toHaveLength(1);
  });

  it('a route with nobody on duty at some hour is flagged, and then tells everybody (with an event) instead of nobody; with a default target the default is told', async () => {
    for (const d of ['oc3', 'oc4']) await h.device(d);
    await ruleFor(['oc3', 'oc4']);
    const gappy = await s.ok('POST', '/api/v1/routes', {
      name: 'Nur nachts',
      match: { minSeverity: 'severe', deviceIds: ['oc3'] },
      targets: [{ type: 'sms', to: '+4916010000003', name: 'Nachtbereitschaft', when: { from: '22:00', to: '06:00', except: ['2099-12-24'] } }],
    });
    expect(gappy.coverageGaps).toContainEqual({ list: 'targets', day: 'mo', from: '06:00', to: '22:00' });
    // the holiday's night is off: from 06:00 on the 24th on, and on the 25th until the next night
    expect(gappy.coverageGaps).toContainEqual({ list: 'targets', date: '2099-12-24', from: '06:00', to: '24:00' });
    expect(gappy.coverageGaps).toContainEqual({ list: 'targets', date: '2099-12-25', from: '00:00', to: '22:00' });
    const listed = await s.ok('GET', '/api/v1/routes');
    expect(listed.items.find((r: { id: string }) => r.id === gappy.id).coverageGaps.length).toBeGreaterThan(7);
    const covered = await s.ok('POST', '/api/v1/routes', {
      name: 'Nachts, sonst Leitstelle',
      match: { minSeverity: 'severe', deviceIds: ['oc4'] },
      targets: [
        { type: 'sms', to: '+4916010000004', name: 'Nachtbereitschaft', when: { from: '22:00', to: '06:00' } },
        { type: 'sms', to: '+4916010000005', name: 'Leitstelle' },
      ],
    });
    expect((await s.ok('GET', `/api/v1/routes/${covered.id}`)).coverageGaps).toEqual([]);

    await h.send('oc3', berlin(day, '07:10'), { level_cm: 120 });
    await h.send('oc4', berlin(day, '07:10'), { level_cm: 120 });
    await waitFor(() => smsTo('+4916010000003').length === 1 && smsTo('+4916010000005').length === 1, 8000, 'SMS in the gap and to the default');
    expect(smsTo('+4916010000004'), 'off duty, and a default exists').toHaveLength(0);
    const gap = (await detail('oc3')).events.find((e) => e.kind === 'oncall_gap');
    expect(gap?.comment).toContain('Nur nachts');
    expect((await detail('oc4')).events.some((e) => e.kind === 'oncall_gap')).toBe(false);

    // the console's route page shows the windows and the gap
    const page = await consoleGet('/routes');
    expect(page).toContain('22:00–06:00 ≠ 2099-12-24');
    expect(page).toContain('Laut Dienstplan niemand im Dienst');
    expect(page).toContain('mo 06:00–22:00');

    // bad windows are refused with the field and the reason
    const bad = await s.api('POST', '/api/v1/routes', {
      name: 'kaputt',
      targets: [{ type: 'sms', to: '+4916010000009', when: { days: ['Montag'], from: '7 Uhr' } }],
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('must be one of mo, tu, we, th, fr, sa, su');
    expect(JSON.stringify(bad.body)).toContain('must be a time like 07:00');
  });

  it('a call target rings with the alarm said twice in German; a forged or wrong key changes nothing; 1 acknowledges in the target’s name; no call for the acknowledgement', async () => {
    await h.device('oc5');
    await ruleFor(['oc5']);
    await s.ok('POST', '/api/v1/routes', {
      name: 'Leitstelle extrem',
      match: { minSeverity: 'extreme', deviceIds: ['oc5'] },
      targets: [
        { type: 'call', to: '+4966119112', name: 'Leitstelle Fulda' },
        { type: 'sms', to: '+4916010000007', name: 'Leitstelle Fulda' },
      ],
    });
    await h.send('oc5', berlin(day, '07:20'), { level_cm: 140 });
    const [call] = await waitFor(() => twilio.calls.filter((c) => c.To === '+4966119112').length === 1 && twilio.calls, 8000, 'call placed');
    expect(call.From).toBe('+4930123456');
    const says = [...call.Twiml.matchAll(/<Say language="de-DE">([^<]*)<\/Say>/g)].map((m) => m[1]);
    expect(says[0]).toContain('Regenwacht');
    expect(says[0]).toContain('Zentimeter');
    expect(says[1], 'said twice').toBe(says[0]);
    expect(says[2]).toBe('Drücken Sie 1 zum Quittieren.');
    expect(call.Twiml).toMatch(/<Gather numDigits="1"[^>]* action="[^"]+\/hooks\/twilio\/call-gather\?n=msg_[^"]+"/);
    const gatherUrl = /action="([^"]+)"/.exec(call.Twiml)![1];
    expect(call.StatusCallback).toBe(gatherUrl.replace('call-gather', 'call-status'));

    expect((await postTwilio(call.StatusCallback, { CallSid: call.Sid, CallStatus: 'ringing', AccountSid: TWILIO_SID })).status).toBe(200);
    expect((await postTwilio(gatherUrl, { CallSid: call.Sid, Digits: '1' }, 'not-the-token')).status, 'forged').toBe(403);
    const wrongKey = await postTwilio(gatherUrl, { CallSid: call.Sid, Digits: '2', AccountSid: TWILIO_SID });
    expect(await wrongKey.text()).toContain('nicht quittiert');
    expect((await detail('oc5')).state).toBe('firing');

    const ack = await postTwilio(gatherUrl, { CallSid: call.Sid, Digits: '1', AccountSid: TWILIO_SID, From: '+4930123456', To: '+4966119112' });
    expect(ack.status).toBe(200);
    expect(ack.headers.get('content-type')).toContain('text/xml');
    expect(await ack.text()).toMatch(/<Response><Say language="de-DE">Alarm \d+ ist quittiert\. Danke\.<\/Say><Hangup\/><\/Response>/);
    const a = await detail('oc5');
    expect(a.state).toBe('acknowledged');
    expect(a.acknowledgedBy).toBe('Leitstelle Fulda');
    expect(a.events.find((e) => e.kind === 'acknowledged')?.comment).toContain('Anruf');
    await waitFor(() => smsTo('+4916010000007').length === 2, 8000, 'acknowledgement by SMS');
    expect(
      twilio.calls.filter((c) => c.To === '+4966119112'),
      'an acknowledgement never rings',
    ).toHaveLength(1);

    expect((await postTwilio(call.StatusCallback, { CallSid: call.Sid, CallStatus: 'completed', CallDuration: '25' })).status).toBe(200);
    const n = (await detail('oc5')).notifications.find((x) => x.channel === 'call')!;
    expect(n.handset).toBe('answered');
    expect(n.attempts).toEqual([
      expect.objectContaining({ ok: true, provider: 'twilio-voice', providerMessageId: call.Sid, report: expect.objectContaining({ status: 'completed' }) }),
    ]);
  });

  it('a call nobody takes is recorded on its attempt and, once, as an event on the alarm', async () => {
    await h.device('oc6');
    await ruleFor(['oc6']);
    await s.ok('POST', '/api/v1/routes', {
      name: 'Kreisbrandinspektor',
      match: { minSeverity: 'extreme', deviceIds: ['oc6'] },
      targets: [{ type: 'call', to: '+4917112345678', name: 'Kreisbrandinspektor' }],
    });
    await h.send('oc6', berlin(day, '07:30'), { level_cm: 140 });
    const [call] = await waitFor(() => twilio.calls.filter((c) => c.To === '+4917112345678'), 8000, 'call placed');
    await waitFor(async () => (await detail('oc6')).notifications[0]?.handset === 'calling', 8000, 'call accepted by Twilio');
    for (let i = 0; i < 2; i++)
      expect((await postTwilio(call.StatusCallback, { CallSid: call.Sid, CallStatus: 'no-answer', AccountSid: TWILIO_SID })).status).toBe(200);
    const a = await detail('oc6');
    expect(a.state).toBe('firing');
    expect(a.notifications[0]).toMatchObject({ channel: 'call', to: '+4917112345678', handset: 'unanswered' });
    expect(a.notifications[0].attempts[0].report?.status).toBe('no-answer');
    const events = a.events.filter((e) => e.kind === 'call_unanswered');
    expect(events).toHaveLength(1);
    expect(events[0].comment).toBe('Anruf bei Kreisbrandinspektor (+4917112345678) nicht angenommen (twilio: no-answer)');
    // a callback for a call we never placed changes nothing
    const unknown = await postTwilio(call.StatusCallback.replace(/n=[^&]+/, 'n=msg_nope'), { CallSid: 'CAnope', CallStatus: 'failed' });
    expect(await unknown.json()).toEqual({ received: false });
  });
  it('a reminder due after the shift changed goes to whoever is on duty then (15:55 day desk, 16:05 night officer)', async () => {
    await h.device('oc7');
    await ruleFor(['oc7']);
    await s.ok('POST', '/api/v1/routes', {
      name: 'Bereitschaft mit Erinnerung',
      match: { minSeverity: 'severe', deviceIds: ['oc7'] },
      repeatEvery: '10m',
      targets: [
        { type: 'sms', to: '+4916010000011', name: 'Tagdienst', when: { from: '07:00', to: '16:00' } },
        { type: 'sms', to: '+4916010000012', name: 'Nachtdienst', when: { from: '16:00', to: '07:00' } },
      ],
    });
    await h.send('oc7', berlin(day, '15:55'), { level_cm: 120 });
    await waitFor(() => smsTo('+4916010000011').length === 1, 8000, 'SMS to the day desk');
    await h.advance(11 * MIN, MIN);
    const [reminder] = await waitFor(() => smsTo('+4916010000012').length >= 1 && smsTo('+4916010000012'), 8000, 'reminder to the night officer');
    expect(reminder.text).toMatch(/^ERINNERUNG/);
    expect(smsTo('+4916010000011'), 'the day desk is off duty at 16:05').toHaveLength(1);
  });
  it('Twilio refusing the call (400, invalid number) fails the notification at once with Twilio’s words on the alarm', async () => {
    await h.device('oc8');
    await ruleFor(['oc8']);
    await s.ok('POST', '/api/v1/routes', {
      name: 'Falsche Nummer',
      match: { minSeverity: 'extreme', deviceIds: ['oc8'] },
      targets: [{ type: 'call', to: '+4917000000000', name: 'Irrtum' }],
    });
    twilio.callScript.push(400);
    await h.send('oc8', berlin(day, '16:20'), { level_cm: 140 });
    const n = await waitFor(
      async () => {
        const x = (await detail('oc8')).notifications[0];
        return x?.state === 'failed' && x;
      },
      8000,
      'call failed',
    );
    expect(n.attempts).toHaveLength(1);
    expect(n.attempts[0]).toMatchObject({ ok: false, provider: 'twilio-voice' });
    expect(n.lastError).toContain("Twilio 21211 The 'To' number is not a valid phone number.");
  });
  it('the route test of a call target places a call that says it is a test', async () => {
    const r = await s.ok('POST', '/api/v1/routes', {
      name: 'Probeanruf',
      match: { minSeverity: 'extreme', deviceIds: ['nobody'] },
      targets: [{ type: 'call', to: '+4917099999999', name: 'Probe' }],
    });
    const res = await s.ok('POST', `/api/v1/routes/${r.id}/test`, { target: 0 });
    expect(res.ok).toBe(true);
    const [call] = twilio.calls.filter((c) => c.To === '+4917099999999');
    expect(call.Twiml).toContain('<Say language="de-DE">Regenwacht TEST: Testnachricht der Weiterleitung &quot;Probeanruf&quot; – kein Alarm.</Say>');
  });
});
