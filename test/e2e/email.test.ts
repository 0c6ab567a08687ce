// The e-mail channel end to end: readings over MQTT, mail through nodemailer to a local SMTP server that
// requires the login from SMTP_URL and parses each mail. One alarm's firing → escalated → acknowledged →
// resolved is one thread in the mailbox; German plain text and HTML; a refused mailbox is shown, not retried. [issue 16]
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock, Harness, HOUR, MIN, pastStart } from '../helpers/alarms.ts';
import { type FakeSmtp, fakeSmtp, type Mail } from '../helpers/fake-smtp.ts';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

describe('e-mail channel', () => {
  let s: TestSystem;
  let h: Harness;
  let smtp: FakeSmtp;
  const clock = new Clock(pastStart(24 * HOUR));
  let n = 0;

  beforeAll(async () => {
    smtp = await fakeSmtp();
    s = await startSystem({ store: 'pg', now: clock.now, env: { SMTP_URL: smtp.url, MAIL_FROM: 'Regenwacht Kreis <alarm@kreis.example>' } });
    h = new Harness(s, clock);
  });
  afterAll(async () => {
    h?.close();
    await s?.close();
    await smtp?.close();
  });

  /** A gauge (severe ≥ 100 cm, extreme ≥ 110 cm) routed by e-mail to one named address. */
  async function gauge(to: string) {
    const dev = `mail${++n}`;
    clock.set(clock.t + HOUR);
    await h.device(dev);
    await h.rule({
      name: `Pegel ${dev}`,
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: [dev] },
      levels: [
        { severity: 'severe', threshold: 100 },
        { severity: 'extreme', threshold: 110 },
      ],
      clear: { hysteresis: 0, for: '1m' },
      expectedInterval: '7d',
    });
    await h.route({ name: `Bauhof ${dev}`, match: { minSeverity: 'moderate', deviceIds: [dev] }, targets: [{ type: 'email', to, name: 'Bauhof Gießen' }] });
    return dev;
  }
  const mailsTo = (to: string) => smtp.mails.filter((m) => m.envelopeTo.includes(to));
  const header = (m: Mail, k: string) => m.parsed.headers.get(k) as string | string[] | undefined;

  it('one alarm’s firing, escalation, acknowledgement and all-clear arrive as one thread, German text and HTML with the same facts as the SMS', async () => {
    const to = 'bauhof@giessen.example';
    const dev = await gauge(to);
    await h.send(dev, clock.t, { level_cm: 105 });
    const [m1] = await waitFor(() => mailsTo(to).length >= 1 && mailsTo(to), 8000, 'firing mail');
    const [a] = await h.alarms({ deviceId: dev });
    await h.send(dev, clock.t + MIN, { level_cm: 115 });
    await waitFor(() => mailsTo(to).length >= 2, 8000, 'escalation mail');
    // acknowledged from the escalation mail's own link, in the route target's name
    const ackUrl = /Quittieren: (\S+)/.exec(mailsTo(to)[1].parsed.text ?? '')?.[1];
    expect(ackUrl).toMatch(/\/q\/[A-Za-z0-9_-]{16}$/);
    expect((await fetch(ackUrl!, { method: 'POST', redirect: 'manual' })).status).toBe(303);
    await waitFor(() => mailsTo(to).length >= 3, 8000, 'acknowledgement mail');
    for (const level of [80, 78]) await h.send(dev, clock.t + MIN, { level_cm: level });
    await h.advance(2 * MIN, 30_000);
    const mails = await waitFor(() => mailsTo(to).length >= 4 && mailsTo(to), 8000, 'all-clear mail');
    expect(mails).toHaveLength(4);

    const root = `<alarm-${a.id}@kreis.example>`;
    expect(m1.parsed.messageId).toBe(root);
    expect(m1.parsed.subject).toMatch(new RegExp(`^ALARM: \\S.* – Pegel ${dev} \\(Alarm ${a.id}\\)$`));
    expect(mails.map((m) => m.parsed.subject!.split(':')[0])).toEqual(['ALARM', 'HÖHER', 'QUITTIERT', 'ENTWARNUNG']);
    for (const m of mails.slice(1)) {
      expect(m.parsed.inReplyTo).toBe(root);
      expect([header(m, 'references')].flat()).toContain(root);
      expect(m.parsed.messageId).not.toBe(root);
    }
    expect(new Set(mails.map((m) => m.parsed.messageId)).size).toBe(4);
    for (const m of mails) {
      expect(m.parsed.from?.text).toBe('"Regenwacht Kreis" <alarm@kreis.example>');
      expect(m.parsed.to && 'text' in m.parsed.to ? m.parsed.to.text : '').toContain(to);
      expect(m.parsed.text).toContain(`Alarm ansehen: ${s.httpUrl}/alarms/${a.id}`);
      expect(m.parsed.html).toContain(`href="${s.httpUrl}/alarms/${a.id}"`);
      expect(m.parsed.text).toContain(`Station: Pegel ${dev} (${dev})`);
      expect(header(m, 'auto-submitted')).toBe('auto-generated');
    }
    expect(mails[0].parsed.text).toMatch(/^HOCHWASSER|^UNWETTER|^\S+/);
    expect(mails[0].parsed.text).toContain('Pegel 105 cm');
    expect(mails[0].parsed.text).toContain('Quittieren: ');
    expect(mails[0].parsed.html).toContain('>Quittieren</a>');
    expect(mails[2].parsed.text).toContain('QUITTIERT von Bauhof Gießen');
    expect(mails[2].parsed.text).not.toContain('Quittieren: ');
    expect(mails[3].parsed.text).toContain('Zustand: beendet (Entwarnung)');
    const stored = await h.alarm(a.id);
    expect(stored.notifications.filter((x) => x.to === to).map((x) => x.state)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
  });

  it('a mailbox the server refuses (550) is failed with the server’s words on the alarm, not retried; a 451 is retried', async () => {
    const to = 'gibtsnicht@giessen.example';
    const dev = await gauge(to);
    smtp.script.push(550);
    await h.send(dev, clock.t, { level_cm: 105 });
    const [a] = await waitFor(async () => {
      const list = await h.alarms({ deviceId: dev });
      return list[0]?.notifications.some((x) => x.state === 'failed') && list;
    });
    const failed = a.notifications.find((x) => x.to === to)!;
    expect(failed.attempts).toHaveLength(1);
    expect(failed.attempts[0]).toMatchObject({ ok: false, status: 550 });
    expect((failed as unknown as { lastError: string }).lastError).toMatch(/^SMTP 550/);
    expect(mailsTo(to)).toHaveLength(0);

    const to2 = 'spaeter@giessen.example';
    const dev2 = await gauge(to2);
    smtp.script.push(451);
    await h.send(dev2, clock.t, { level_cm: 105 });
    await waitFor(async () => (await h.alarms({ deviceId: dev2 }))[0]?.notifications[0]?.attempts.length === 1, 8000, 'first attempt');
    await h.advance(10_000, 5_000); // past the first backoff
    await waitFor(() => mailsTo(to2).length === 1, 8000, 'retried mail');
    const [b] = await h.alarms({ deviceId: dev2 });
    expect(b.notifications[0].attempts.map((x) => x.ok)).toEqual([false, true]);
  });
  it('the route test of an e-mail target sends a test e-mail (not an SMS)', async () => {
    const to = 'probe@kreis.example';
    const r = await s.ok<{ id: string }>('POST', '/api/v1/routes', {
      name: 'Probe',
      match: { deviceIds: ['nobody'] },
      targets: [{ type: 'email', to, name: 'Probe' }],
    });
    const res = await s.ok<{ ok: boolean }>('POST', `/api/v1/routes/${r.id}/test`, { target: 0 });
    expect(res.ok).toBe(true);
    const [m] = await waitFor(() => mailsTo(to).length === 1 && mailsTo(to), 8000, 'test mail');
    expect(m.parsed.subject).toBe('Regenwacht TEST: Testnachricht der Weiterleitung "Probe" – kein Alarm.');
  });
});
