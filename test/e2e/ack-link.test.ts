// Acknowledge from the message: an alarm raised over MQTT sends each SMS recipient their own link
// PUBLIC_URL/q/<token> (through a local seven.io stand-in); opening it never acknowledges, the page's
// "Quittieren" POST does, in the name the route gives the recipient; once, and not from another site. [issue 16]
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock, Harness, HOUR, MIN, pastStart } from '../helpers/alarms.ts';
import { type FakeProvider, fakeSeven, SEVEN_KEY } from '../helpers/fake-providers.ts';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

const LINK = /Quittieren: (http:\/\/\S+\/q\/([A-Za-z0-9_-]{16}))/;

describe('acknowledge link in the SMS', () => {
  let s: TestSystem;
  let h: Harness;
  let seven: FakeProvider;
  const clock = new Clock(pastStart(24 * HOUR));
  let n = 0;

  beforeAll(async () => {
    seven = await fakeSeven();
    s = await startSystem({ store: 'pg', now: clock.now, env: { SMS_PROVIDER: 'seven', SEVEN_API_KEY: SEVEN_KEY, SEVEN_BASE_URL: seven.url } });
    h = new Harness(s, clock);
  });
  afterAll(async () => {
    h?.close();
    await s?.close();
    await seven?.close();
  });

  /** A gauge whose level rule fires at 100 cm, routed by SMS to two named people; the alarm fired over MQTT. */
  async function fired() {
    const dev = `q${++n}`;
    clock.set(clock.t + HOUR);
    await h.device(dev);
    await h.rule({
      name: `Pegel ${dev}`,
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: [dev] },
      levels: [{ severity: 'severe', threshold: 100 }],
      clear: { hysteresis: 0, for: '1m' },
      expectedInterval: '7d',
    });
    const meier = `+4917100000${n}1`;
    const schulz = `+4917100000${n}2`;
    await h.route({
      name: `Wehr ${dev}`,
      match: { minSeverity: 'moderate', deviceIds: [dev] },
      targets: [
        { type: 'sms', to: meier, name: 'Zugführer Meier' },
        { type: 'sms', to: schulz, name: 'Wehrführerin Schulz' },
      ],
    });
    await h.send(dev, clock.t, { level_cm: 120 });
    const [a] = await waitFor(
      async () => {
        const list = await h.alarms({ deviceId: dev });
        return list.some((x) => x.state === 'firing') && list;
      },
      5000,
      'alarm',
    );
    const texts = await waitFor(() => {
      const mine = seven.sms.filter((m) => m.to === meier || m.to === schulz);
      return mine.length === 2 && mine;
    });
    const linkOf = (to: string) => {
      const m = LINK.exec(texts.find((x) => x.to === to)!.text);
      if (!m) throw new Error(`no link in ${texts.find((x) => x.to === to)!.text}`);
      return m[1];
    };
    return { dev, a, meier: linkOf(meier), schulz: linkOf(schulz), texts };
  }

  const post = (url: string, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: '' });

  it('each recipient gets their own short link inside one 160-character SMS; opening it shows the alarm and a Quittieren button but acknowledges nothing', async () => {
    const { a, meier, schulz, texts } = await fired();
    expect(meier).not.toBe(schulz);
    for (const t of texts) expect(t.text.length).toBeLessThanOrEqual(160);
    expect(meier.startsWith(`${s.httpUrl}/q/`)).toBe(true);
    for (let i = 0; i < 3; i++) {
      const page = await fetch(meier);
      expect(page.status).toBe(200);
      const body = await page.text();
      expect(body).toContain('Quittieren</button>');
      expect(body).toContain('Zugführer Meier');
      expect(body).toContain(`Alarm ${a.id}`);
    }
    expect((await h.alarm(a.id)).state, 'GET (a link scanner) never acknowledges').toBe('firing');
  });

  it('the POST acknowledges in the route target’s name; the link is single use and the other recipient’s link shows who acknowledged', async () => {
    const { a, meier, schulz } = await fired();
    const r = await post(meier, { origin: new URL(s.httpUrl).origin });
    expect(r.status).toBe(303);
    const done = await fetch(new URL(r.headers.get('location')!, meier));
    expect(await done.text()).toContain('Quittiert.');
    const acked = await h.alarm(a.id);
    expect(acked.state).toBe('acknowledged');
    expect((acked as unknown as { acknowledgedBy: string }).acknowledgedBy).toBe('Zugführer Meier');
    expect(acked.events.at(-1)).toMatchObject({ kind: 'acknowledged', actor: 'Zugführer Meier' });
    // the other recipient's page now says who acknowledged, without a button
    const other = await (await fetch(schulz)).text();
    expect(other).toContain('Bereits quittiert von Zugführer Meier');
    expect(other).not.toContain('Quittieren</button>');
    // second POST of the same link: nothing happens again
    const again = await post(meier);
    expect(again.status).toBe(409);
    expect((await h.alarm(a.id)).events.filter((e) => e.kind === 'acknowledged')).toHaveLength(1);
  });

  it('a form posted from another site is refused (CSRF), and an unknown token is a 404 page', async () => {
    const { a, meier } = await fired();
    expect((await post(meier, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post(meier, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await h.alarm(a.id)).state).toBe('firing');
    expect((await fetch(`${s.httpUrl}/q/AAAAAAAAAAAAAAAA`)).status).toBe(404);
    expect((await post(`${s.httpUrl}/q/not-a-token`)).status).toBe(404);
  });

  it('the link expires with the alarm: after the all-clear it shows the end and does not acknowledge', async () => {
    const { dev, a, meier } = await fired();
    await h.send(dev, clock.t + MIN, { level_cm: 80 });
    await h.send(dev, clock.t + MIN, { level_cm: 78 });
    await h.advance(2 * MIN, 30_000);
    await waitFor(async () => (await h.alarm(a.id)).state === 'resolved', 5000, 'all-clear');
    const page = await fetch(meier);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('Der Alarm ist beendet');
    expect((await post(meier)).status).toBe(410);
    expect((await h.alarm(a.id)).state).toBe('resolved');
  });
});
