// Storm grouping end to end (issue 16): eight gauges of one catchment raise alarms over MQTT; a route with
// groupBy tag:catchment sends one SMS for the first five after groupWait and one update for the other three
// after groupInterval — not eight. An escalation goes out at once, every alarm is acknowledged on its own
// by an SMS reply, and the webhook target gets the list. SMS through a local Twilio stand-in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gsm7Length } from '../../alerts/channels/sms-text.ts';
import { Clock, Harness, HOUR, pastStart, receiver, webhook } from '../helpers/alarms.ts';
import { fakeTwilio, postTwilio, TWILIO_SID, TWILIO_TOKEN } from '../helpers/fake-providers.ts';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

describe('storm grouping', () => {
  let s: TestSystem;
  let h: Harness;
  let twilio: Awaited<ReturnType<typeof fakeTwilio>>;
  let hook: Awaited<ReturnType<typeof receiver>>;
  const clock = new Clock(pastStart(4 * HOUR));

  beforeAll(async () => {
    twilio = await fakeTwilio();
    hook = await receiver([200]);
    s = await startSystem({
      store: 'pg',
      now: clock.now,
      env: {
        SMS_PROVIDER: 'twilio',
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
    await twilio?.close();
    await hook?.close();
  });

  it('8 gauges of one catchment: one grouped SMS after groupWait, one update after groupInterval, escalation at once, each alarm acknowledged on its own', async () => {
    const to = '+4917100000301';
    // a flash flood: the gauges may rise faster than the default plausibility checks allow
    const fast = { spikeCm: 1000, maxRiseCmPerMin: 10_000 };
    const devs = Array.from({ length: 8 }, (_, i) => `lahn-${i + 1}`);
    for (const d of devs) {
      await s.ok('POST', '/api/v1/devices', { id: d, name: `Pegel Lahn ${d.slice(5)}`, model: 'generic', tags: { catchment: 'Lahn' }, params: fast });
    }
    // an unrelated gauge in another catchment: its alarm is not part of the Lahn group
    await s.ok('POST', '/api/v1/devices', { id: 'ohm-1', name: 'Pegel Ohm', model: 'generic', tags: { catchment: 'Ohm' } });
    await h.rule({
      name: 'Pegel hoch',
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: [...devs, 'ohm-1'] },
      levels: [
        { severity: 'severe', threshold: 100 },
        { severity: 'extreme', threshold: 200 },
      ],
      expectedInterval: '7d',
    });
    const route = await s.ok('POST', '/api/v1/routes', {
      name: 'Leitstelle Lahn',
      match: { minSeverity: 'moderate', tags: { catchment: 'Lahn' } },
      targets: [{ type: 'sms', to, name: 'Zugführer Meier' }, webhook(`${hook.url}/hook`)],
      groupBy: ['tag:catchment'],
      groupWait: '30s',
      groupInterval: '2m',
    });
    expect(route).toMatchObject({ groupBy: ['tag:catchment'], groupWait: '30s', groupInterval: '2m' });
    // a route without groupBy over the Ohm gauge notifies as before
    await h.route({ name: 'Ohm', match: { minSeverity: 'moderate', deviceIds: ['ohm-1'] }, targets: [{ type: 'sms', to: '+4917100000302' }] });

    const t0 = clock.t + 60_000;
    for (const [i, d] of devs.slice(0, 5).entries()) await h.send(d, t0 + i * 1000, { level_cm: 120 + i * 5 });
    await h.send('ohm-1', t0 + 5000, { level_cm: 130 });
    // the ungrouped route's SMS goes out at once
    await twilio.waitSms(1, 15_000);
    expect(twilio.sms[0].to).toBe('+4917100000302');

    const alarms = async () => {
      const out = [];
      for (const d of devs) out.push(...(await h.alarms({ deviceId: d })));
      return out;
    };
    const first5 = await alarms();
    expect(first5).toHaveLength(5);
    // waiting in the outbox, not sent
    for (const a of first5) expect(a.notifications.map((n) => n.state)).toEqual(['grouped', 'grouped']);

    // an escalation is never held back by grouping
    await h.send('lahn-2', t0 + 10_000, { level_cm: 230 });
    const esc = await waitFor(() => twilio.sms.find((m) => m.to === to), 15_000, 'escalation SMS');
    expect(esc.text).toMatch(/^HÖHER: /);
    expect(esc.text).toContain('Pegel Lahn 2');

    // groupWait over: one SMS for five alarms
    clock.set(t0 + 31_000);
    const grouped = await waitFor(() => twilio.sms.filter((m) => m.to === to)[1], 15_000, 'grouped SMS');
    const ids5 = first5.map((a) => a.id).sort((x, y) => Number(x) - Number(y));
    expect(grouped.text).toMatch(/^HOCHWASSER .* an 5 Stationen \(Lahn\): höchste .*Pegel Lahn 2 \(lahn-2\)/);
    expect(grouped.text).toContain(`Alarme ${ids5.join(', ')}`);
    expect(gsm7Length(grouped.text)).toBeLessThanOrEqual(160);
    const body = await waitFor(() => hook.bodies().find((b) => b.type === 'alarm.grouped'), 15_000, 'grouped webhook');
    expect(body.group).toMatchObject({ label: 'Lahn', count: 5, earlier: 0 });
    expect(body.alarms.map((a: { id: string }) => a.id).sort((x: string, y: string) => Number(x) - Number(y))).toEqual(ids5);

    // three more gauges within groupInterval: collected, sent as one update when it is over
    for (const [i, d] of devs.slice(5).entries()) await h.send(d, t0 + 60_000 + i * 1000, { level_cm: 150 });
    const all = await alarms();
    expect(all).toHaveLength(8);
    const later = all.filter((a) => !ids5.includes(a.id));
    for (const a of later) expect(a.notifications.map((n) => n.state)).toEqual(['grouped', 'grouped']);
    clock.set(t0 + 31_000 + 2 * 60_000 + 1000);
    const update = await waitFor(() => twilio.sms.filter((m) => m.to === to)[2], 15_000, 'update SMS');
    expect(update.text).toMatch(/ an 3 weiteren Stationen \(Lahn, 8 insgesamt\): /);
    expect(update.text).toContain(`Alarme ${later.map((a) => a.id).join(', ')}`);

    // settled: every notification delivered or merged into a delivered one; the commander got 3 SMS, not 9
    const final = await waitFor(
      async () => {
        const xs = await alarms();
        return xs.every((a) => a.notifications.every((n) => n.state === 'delivered' || n.state === 'merged')) && xs;
      },
      15_000,
      'all notifications settled',
    );
    expect(final.flatMap((a) => a.notifications).filter((n) => n.state === 'delivered' && n.purpose === 'event' && n.to === to)).toHaveLength(3);
    expect(twilio.sms.filter((m) => m.to === to)).toHaveLength(3);
    expect(hook.bodies().filter((b) => b.type === 'alarm.grouped')).toHaveLength(2);

    // each alarm is acknowledged on its own, by its number
    const one = later[1].id;
    const r = await postTwilio(`${s.httpUrl}/hooks/twilio/sms-inbound`, {
      From: to,
      To: '+4930123456',
      Body: `OK ${one}`,
      MessageSid: 'SMgrp1',
      AccountSid: TWILIO_SID,
    });
    expect(await r.text()).toContain(`Alarm ${one} quittiert`);
    const states = (await alarms()).map((a) => [a.id, a.state]);
    expect(states.filter(([, st]) => st === 'acknowledged')).toEqual([[one, 'acknowledged']]);
  }, 120_000);

  it('an alarm that ends while its group waits: its all-clear goes out, the group message leaves it out', async () => {
    const to = '+4917100000303';
    const fast = { spikeCm: 1000, maxRiseCmPerMin: 10_000 };
    const devs = ['wieseck-1', 'wieseck-2'];
    for (const d of devs) await s.ok('POST', '/api/v1/devices', { id: d, name: `Pegel ${d}`, model: 'generic', tags: { catchment: 'Wieseck' }, params: fast });
    await h.rule({
      name: 'Wieseck hoch',
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: devs },
      levels: [{ severity: 'severe', threshold: 100 }],
      clear: { hysteresis: 0, for: '1m' },
      expectedInterval: '7d',
    });
    await h.route({
      name: 'Wieseck',
      match: { minSeverity: 'moderate', tags: { catchment: 'Wieseck' } },
      targets: [{ type: 'sms', to }],
      groupBy: ['tag:catchment'],
      groupWait: '10m',
    });
    const t0 = clock.t + HOUR;
    await h.send('wieseck-1', t0, { level_cm: 120 });
    await h.send('wieseck-2', t0 + 1000, { level_cm: 130 });
    // wieseck-1 falls back and its alarm resolves within the wait
    await h.send('wieseck-1', t0 + 60_000, { level_cm: 80 });
    await h.send('wieseck-1', t0 + 120_000, { level_cm: 78 });
    await h.advance(2 * 60_000, 30_000);
    const [a1] = await h.alarms({ deviceId: 'wieseck-1' });
    expect(a1.state).toBe('resolved');
    const clear = await waitFor(() => twilio.sms.find((m) => m.to === to), 15_000, 'all-clear SMS');
    expect(clear.text).toMatch(/^ENTWARNUNG: /);
    clock.set(t0 + 10 * 60_000 + 1000);
    const [a2] = await h.alarms({ deviceId: 'wieseck-2' });
    const second = await waitFor(() => twilio.sms.filter((m) => m.to === to)[1], 15_000, 'the group message');
    // one alarm left in the group: its usual message
    expect(second.text).toMatch(new RegExp(`^HOCHWASSER .*Pegel wieseck-2 \\(wieseck-2\\).* Alarm ${a2.id}`));
    const settled = await waitFor(
      async () => {
        const n1 = (await h.alarm(a1.id)).notifications.find((n) => n.type === 'alarm.firing');
        return n1?.state === 'suppressed' && n1;
      },
      15_000,
      "the ended alarm's waiting notification suppressed",
    );
    expect(settled.state).toBe('suppressed');
    expect(twilio.sms.filter((m) => m.to === to)).toHaveLength(2);
  }, 120_000);
});
