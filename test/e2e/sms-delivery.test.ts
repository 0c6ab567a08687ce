// SMS delivery reports and failover end to end: alarms raised over MQTT go out through a local seven.io
// stand-in; its signed delivery reports (and Twilio's StatusCallbacks) are stored on the attempt and shown on
// the alarm; an SMS reported failed, or without a report within SMS_DELIVERY_TIMEOUT, is resent through the
// next provider in SMS_PROVIDERS exactly once, and finally counted undelivered with an alarm event. [issue 16]
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock, Harness, HOUR, MIN, pastStart } from '../helpers/alarms.ts';
import { consoleSession } from '../helpers/console-session.ts';
import { type FakeProvider, fakeSeven, fakeTwilio, postSeven, postTwilio, SEVEN_KEY, TWILIO_SID, TWILIO_TOKEN } from '../helpers/fake-providers.ts';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

const SEVEN_SECRET = 'seven-signing-secret-1';

interface Attempt {
  ok: boolean;
  provider?: string;
  providerMessageId?: string;
  report?: { status: string; at: string; error: string | null } | null;
}
interface Notification {
  to: string;
  state: string;
  handset?: string;
  attempts: Attempt[];
}

describe('SMS delivery reports and failover (seven, then Twilio)', () => {
  let s: TestSystem;
  let h: Harness;
  let seven: FakeProvider;
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
        SMS_PROVIDER: 'seven',
        SMS_PROVIDERS: 'seven,twilio',
        SEVEN_API_KEY: SEVEN_KEY,
        SEVEN_BASE_URL: seven.url,
        SEVEN_WEBHOOK_SECRET: SEVEN_SECRET,
        TWILIO_ACCOUNT_SID: TWILIO_SID,
        TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
        TWILIO_FROM: '+4930123456',
        TWILIO_BASE_URL: twilio.url,
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

  /** An alarm over MQTT whose SMS to a fresh number seven accepted. */
  async function alarmWithSms() {
    const dev = `dlr${++n}`;
    const to = `+4916000000${String(n).padStart(2, '0')}`;
    clock.set(clock.t + HOUR);
    await h.device(dev);
    await h.rule({
      name: `Pegel ${dev}`,
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: [dev] },
      levels: [{ severity: 'extreme', threshold: 100 }],
      expectedInterval: '7d',
    });
    await h.route({ name: `Leitstelle ${dev}`, match: { minSeverity: 'severe', deviceIds: [dev] }, targets: [{ type: 'sms', to, name: 'Leitstelle' }] });
    await h.send(dev, clock.t, { level_cm: 120 });
    return { dev, to };
  }
  const smsTo = (p: FakeProvider, to: string) => p.sms.filter((m) => m.to === to);
  const notification = async (dev: string): Promise<{ id: string; n: Notification; events: Array<{ kind: string; comment: string | null }> }> => {
    const [a] = await h.alarms({ deviceId: dev });
    return { id: a.id, n: a.notifications[0] as unknown as Notification, events: a.events as never };
  };
  let cookie = '';
  /** A console page as the responder sees it (logged in through the login form). */
  async function consoleGet(path: string): Promise<string> {
    if (!cookie) {
      await s.ok('POST', '/api/v1/users', { login: 'fw', name: 'Feuerwehr', role: 'responder', password: 'ein-gutes-passwort' });
      cookie = await consoleSession(s.httpUrl, 'fw', 'ein-gutes-passwort');
    }
    return (await fetch(s.httpUrl + path, { headers: { cookie } })).text();
  }
  const sevenHook = () => `${s.httpUrl}/hooks/seven`;
  const dlr = (msgId: string, status: string) => ({
    webhook_event: 'dlr',
    webhook_timestamp: '2026-11-30 10:00:00',
    data: { msg_id: msgId, status, timestamp: '2026-11-30 10:00:00' },
  });

  it('a signed DELIVERED report is stored on the attempt and shown on the alarm; nothing is resent; a forged report is refused', async () => {
    const { dev, to } = await alarmWithSms();
    const [sent] = await waitFor(() => smsTo(seven, to).length === 1 && smsTo(seven, to), 8000, 'sms at seven');
    await waitFor(async () => (await notification(dev)).n.handset === 'awaiting', 5000, 'awaiting report');
    const forged = await postSeven(sevenHook(), dlr(sent.id, 'NOTDELIVERED'), 'not-the-secret');
    expect(forged.status).toBe(403);
    expect((await notification(dev)).n.handset, 'a forged report changes nothing').toBe('awaiting');
    const r = await postSeven(sevenHook(), dlr(sent.id, 'DELIVERED'), SEVEN_SECRET);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ received: true });
    const { n: x } = await notification(dev);
    expect(x.handset).toBe('delivered');
    expect(x.attempts).toHaveLength(1);
    expect(x.attempts[0]).toMatchObject({ ok: true, provider: 'seven', providerMessageId: sent.id, report: { status: 'DELIVERED' } });
    await h.advance(5 * MIN, MIN);
    expect(smsTo(twilio, to), 'a delivered SMS is never resent').toHaveLength(0);
    // the alarm view in the console shows it to a logged-in responder
    const page = await consoleGet(`/alarms/${(await notification(dev)).id}`);
    expect(page).toContain('auf dem Telefon zugestellt');
    expect(page).toContain('seven: DELIVERED');
  });

  it('reported NOTDELIVERED: resent through Twilio exactly once (a repeated report changes nothing); Twilio’s signed StatusCallback then says delivered', async () => {
    const { dev, to } = await alarmWithSms();
    const [sent] = await waitFor(() => smsTo(seven, to).length === 1 && smsTo(seven, to), 8000, 'sms at seven');
    await waitFor(async () => (await notification(dev)).n.handset === 'awaiting', 5000, 'awaiting report');
    for (let i = 0; i < 3; i++) expect((await postSeven(sevenHook(), dlr(sent.id, 'NOTDELIVERED'), SEVEN_SECRET)).status).toBe(200);
    const [viaTwilio] = await waitFor(() => smsTo(twilio, to).length >= 1 && smsTo(twilio, to), 8000, 'resend via twilio');
    expect(viaTwilio.text).toBe(sent.text);
    expect(viaTwilio.statusCallback).toBe(`${s.httpUrl}/hooks/twilio/sms-status`);
    await waitFor(async () => (await notification(dev)).n.handset === 'awaiting', 5000, 'awaiting twilio report');
    // a forged Twilio callback is refused
    expect((await postTwilio(viaTwilio.statusCallback!, { MessageSid: viaTwilio.id, MessageStatus: 'failed' }, 'wrong-token')).status).toBe(403);
    const ok = await postTwilio(viaTwilio.statusCallback!, { MessageSid: viaTwilio.id, MessageStatus: 'delivered', AccountSid: TWILIO_SID, To: to });
    expect(ok.status).toBe(200);
    const { n: x } = await notification(dev);
    expect(x.handset).toBe('delivered');
    expect(x.attempts.map((a) => [a.provider, a.report?.status])).toEqual([
      ['seven', 'NOTDELIVERED'],
      ['twilio', 'delivered'],
    ]);
    await h.advance(5 * MIN, MIN);
    expect(smsTo(twilio, to)).toHaveLength(1);
    expect(smsTo(seven, to)).toHaveLength(1);
  });

  it('no report within 2 minutes: resent through Twilio once; Twilio reports undelivered: counted undelivered, with an event on the alarm', async () => {
    const { dev, to } = await alarmWithSms();
    await waitFor(() => smsTo(seven, to).length === 1, 8000, 'sms at seven');
    await waitFor(async () => (await notification(dev)).n.handset === 'awaiting', 5000, 'awaiting report');
    await h.advance(MIN, 30_000);
    expect(smsTo(twilio, to), 'not before the timeout').toHaveLength(0);
    await h.advance(90_000, 30_000);
    const [viaTwilio] = await waitFor(() => smsTo(twilio, to).length >= 1 && smsTo(twilio, to), 8000, 'resend after timeout');
    await waitFor(async () => (await notification(dev)).n.handset === 'awaiting', 5000, 'awaiting twilio report');
    expect((await postTwilio(viaTwilio.statusCallback!, { MessageSid: viaTwilio.id, MessageStatus: 'undelivered', ErrorCode: '30003' })).status).toBe(200);
    const { n: x, events } = await notification(dev);
    expect(x.handset).toBe('undelivered');
    expect(events.filter((e) => e.kind === 'sms_undelivered')).toHaveLength(1);
    expect(events.find((e) => e.kind === 'sms_undelivered')!.comment).toContain(`SMS an ${to} nicht zugestellt (twilio: undelivered Fehlercode 30003)`);
    const metrics = await (await fetch(`${s.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/regenwacht_sms_undelivered_total [1-9]/);
    await h.advance(5 * MIN, MIN);
    expect(smsTo(twilio, to)).toHaveLength(1);
    expect((await notification(dev)).events.filter((e) => e.kind === 'sms_undelivered')).toHaveLength(1);
  });

  it('seven refuses the send (HTTP 500): the SMS goes out through Twilio at once', async () => {
    seven.script.push(500);
    const { dev, to } = await alarmWithSms();
    await waitFor(() => smsTo(twilio, to).length === 1, 8000, 'sms via twilio');
    expect(smsTo(seven, to)).toHaveLength(0);
    const { n: x } = await notification(dev);
    expect(x.attempts.map((a) => [a.provider, a.ok])).toEqual([
      ['seven', false],
      ['twilio', true],
    ]);
  });

  it('a report for a message nobody sent is answered (so the provider stops) and changes nothing', async () => {
    const r = await postSeven(sevenHook(), dlr('999999', 'DELIVERED'), SEVEN_SECRET);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ received: false });
  });
});
