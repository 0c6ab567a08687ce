// Storm grouping by e-mail (issue 16): three gauges of one rule raise alarms over MQTT; a route grouping by
// rule sends one e-mail listing all three, each with its own acknowledge link; opening a link acknowledges
// nothing, posting it acknowledges that one alarm only, in the route target's name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock, Harness, HOUR, pastStart } from '../helpers/alarms.ts';
import { type FakeSmtp, fakeSmtp } from '../helpers/fake-smtp.ts';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

describe('storm grouping by e-mail', () => {
  let s: TestSystem;
  let h: Harness;
  let smtp: FakeSmtp;
  const clock = new Clock(pastStart(4 * HOUR));

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

  it('one e-mail for three alarms, each acknowledged on its own from its link', async () => {
    const to = 'leitstelle@kreis.example';
    const devs = ['fulda-1', 'fulda-2', 'fulda-3'];
    for (const d of devs) await h.device(d);
    await h.rule({
      name: 'Fulda hoch',
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: devs },
      levels: [{ severity: 'severe', threshold: 100 }],
      expectedInterval: '7d',
    });
    await h.route({
      name: 'Leitstelle',
      match: { minSeverity: 'moderate', deviceIds: devs },
      targets: [{ type: 'email', to, name: 'Leitstelle Fulda' }],
      groupBy: ['rule'],
      groupWait: '1m',
    });
    const t0 = clock.t + 60_000;
    for (const [i, d] of devs.entries()) await h.send(d, t0 + i * 1000, { level_cm: 110 + i });
    clock.set(t0 + 61_000);
    const [mail] = await waitFor(() => smtp.mails.filter((m) => m.envelopeTo.includes(to)).length >= 1 && smtp.mails, 15_000, 'the grouped e-mail');
    expect(mail.parsed.subject).toBe('ALARM: HOCHWASSER Meldestufe II an 3 Stationen (Fulda hoch)');
    const text = mail.parsed.text ?? '';
    const ids: string[] = [];
    for (const d of devs) ids.push((await h.alarms({ deviceId: d }))[0].id);
    for (const [i, d] of devs.entries()) {
      expect(text).toContain(`an Pegel ${d} (${d})`);
      expect(text).toContain(`/alarms/${ids[i]}`);
    }
    const links = [...text.matchAll(/Quittieren: (\S+)/g)].map((m) => m[1]);
    expect(links).toHaveLength(3);
    expect(new Set(links).size).toBe(3);

    // the link under the second alarm: opening it acknowledges nothing, posting it acknowledges that alarm only
    const block = text.split('\n- ').find((b) => b.includes(`/alarms/${ids[1]}`))!;
    const link = /Quittieren: (\S+)/.exec(block)![1];
    expect((await fetch(link)).status).toBe(200);
    expect((await h.alarm(ids[1])).state).toBe('firing');
    const r = await fetch(link, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(r.status).toBe(303);
    const states = await Promise.all(ids.map(async (id) => (await h.alarm(id)) as unknown as { state: string; acknowledgedBy: string | null }));
    expect(states.map((a) => a.state)).toEqual(['firing', 'acknowledged', 'firing']);
    expect(states[1].acknowledgedBy).toBe('Leitstelle Fulda');
    expect(smtp.mails.filter((m) => m.envelopeTo.includes(to) && /an 3 Stationen/.test(m.parsed.subject ?? ''))).toHaveLength(1);
  }, 120_000);
});
