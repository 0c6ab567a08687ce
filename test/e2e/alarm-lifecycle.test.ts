// How an alarm ends when its configuration changes, and escalation when nobody acknowledges: readings over
// MQTT, rules and devices changed through the API, notifications received by real HTTP receivers.
// A closed alarm is never an all-clear and never reminded of again. [docs/api.md Alarms] [docs/formats.md]
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock, Harness, HOUR, MIN, pastStart, receiver, sleep, webhook } from '../helpers/alarms.ts';
import { startSystem, type TestSystem } from '../helpers/system.ts';

const SEGMENT = 6 * HOUR;
type Rx = Awaited<ReturnType<typeof receiver>>;

describe.each(['pglite', 'pg'] as const)('alarm lifecycle on %s', (store) => {
  let s: TestSystem;
  let h: Harness;
  let sms: Rx;
  const clock = new Clock(pastStart(12 * SEGMENT));
  let n = 0;
  const open: Rx[] = [];
  const rx = async () => {
    const r = await receiver();
    open.push(r);
    return r;
  };

  beforeAll(async () => {
    sms = await receiver([200]);
    s = await startSystem({ store, now: clock.now, env: { SMS_PROVIDER: 'http', SMS_HTTP_URL: `${sms.url}/sms`, SMS_HTTP_TOKEN: 'gw-token' } });
    h = new Harness(s, clock);
  });
  afterAll(async () => {
    h?.close();
    await s?.close();
    await Promise.all([sms, ...open].map((r) => r?.close()));
  });

  /** A gauge with the Meldestufen preset (550/600/650 cm), a webhook and an SMS route with reminders, and an
   *  open alarm at Meldestufe II (610 cm). */
  async function openAlarm() {
    const dev = `lc${++n}`;
    clock.set(clock.t + SEGMENT);
    await h.device(dev);
    const ruleId = await h.rule({ preset: 'pegel-meldestufen', thresholds: [550, 600, 650], scope: { deviceIds: [dev] } });
    const r = await rx();
    const phone = `+49151000${String(n).padStart(4, '0')}`;
    await h.route({
      name: `route ${dev}`,
      match: { minSeverity: 'moderate', deviceIds: [dev] },
      targets: [webhook(r.url), { type: 'sms', to: phone }],
      repeatEvery: '30m',
    });
    await h.send(dev, clock.t, { level_cm: 610 });
    const [a] = await h.alarms({ deviceId: dev });
    expect(a).toMatchObject({ state: 'firing', severity: 'severe' });
    await r.waitRequests(1);
    return { dev, ruleId, r, phone, id: a.id };
  }
  const smsTo = (phone: string) =>
    sms
      .bodies()
      .filter((b) => b.to === phone)
      .map((b) => b.text as string);
  const types = (r: Rx) => r.bodies().map((b) => b.type);

  /** Ended by a change of configuration: closed with its reason, one "BEENDET" notification per target, and
   *  nothing after it: no all-clear, no reminder, also not hours later. */
  async function expectClosed(x: Awaited<ReturnType<typeof openAlarm>>, reason: string, words: string) {
    await x.r.waitRequests(2);
    await h.advance(3 * HOUR, 5 * MIN);
    await sleep(200);
    const a = await h.alarm(x.id);
    expect(a).toMatchObject({ state: 'closed', closedReason: reason, resolvedAt: null });
    expect(a.events.map((e) => e.kind)).toEqual(['firing', 'closed']);
    expect(types(x.r), 'one closing, no reminder, no all-clear').toEqual(['alarm.firing', 'alarm.closed']);
    const closing = x.r.bodies()[1];
    expect(closing.alarm).toMatchObject({ id: x.id, state: 'closed', closedReason: reason });
    expect(closing.alarm.message).toMatch(new RegExp(`^BEENDET \\(${words}\\)`));
    const texts = smsTo(x.phone);
    expect(texts).toHaveLength(2);
    expect(texts[1]).toMatch(new RegExp(`^BEENDET \\(${words}\\): HOCHWASSER Meldestufe II: zuletzt Pegel 610 cm .*Alarm ${x.id}$`));
    expect(texts.join('\n')).not.toMatch(/ENTWARNUNG/i);
    const active = await s.ok('GET', `/api/v1/alarms?deviceId=${x.dev}`);
    expect(active.items, 'a closed alarm is not active').toEqual([]);
    const ack = await s.api('POST', `/api/v1/alarms/${x.id}/ack`, {});
    expect(ack.status).toBe(409);
  }

  it('deleting the rule of an open alarm closes it (rule_deleted): one BEENDET, never an all-clear or a reminder', async () => {
    const x = await openAlarm();
    await s.ok('DELETE', `/api/v1/rules/${x.ruleId}`);
    await s.alerting!.settle();
    await expectClosed(x, 'rule_deleted', 'Regel gelöscht');
  });

  it('disabling the rule closes its open alarm (rule_disabled); readings go on without a new alarm', async () => {
    const x = await openAlarm();
    await s.ok('PATCH', `/api/v1/rules/${x.ruleId}`, { enabled: false });
    await s.alerting!.settle();
    await h.send(x.dev, clock.t + MIN, { level_cm: 640 });
    await expectClosed(x, 'rule_disabled', 'Regel abgeschaltet');
  });

  it('deleting the device closes its open alarm (device_deleted), and its windows do not decay into an all-clear', async () => {
    const x = await openAlarm();
    await s.ok('DELETE', `/api/v1/devices/${x.dev}`);
    await s.alerting!.settle();
    await expectClosed(x, 'device_deleted', 'Messstelle gelöscht');
  });

  it("re-tagging the device out of the rule's tag scope closes its open alarm (device_changed), never an all-clear", async () => {
    const dev = `lc${++n}`;
    clock.set(clock.t + SEGMENT);
    await s.ok('POST', '/api/v1/devices', { id: dev, name: `Pegel ${dev}`, model: 'generic', tags: { catchment: `lahn-${dev}` } });
    const ruleId = await h.rule({ preset: 'pegel-meldestufen', thresholds: [550, 600, 650], scope: { tags: { catchment: `lahn-${dev}` } } });
    const r = await rx();
    const phone = `+49151000${String(n).padStart(4, '0')}`;
    await h.route({ name: `route ${dev}`, match: { minSeverity: 'moderate', deviceIds: [dev] }, targets: [webhook(r.url), { type: 'sms', to: phone }] });
    await h.send(dev, clock.t, { level_cm: 610 });
    const [a] = await h.alarms({ deviceId: dev });
    expect(a).toMatchObject({ state: 'firing', severity: 'severe', ruleId });
    await r.waitRequests(1);
    // the gauge moves to another catchment: the water stays at 610 cm, this rule no longer watches it
    await s.ok('PATCH', `/api/v1/devices/${dev}`, { tags: { catchment: `ohm-${dev}` } });
    await s.alerting!.settle();
    await expectClosed({ dev, ruleId, r, phone, id: a.id }, 'device_changed', 'Messstelle geändert');
  });

  it('an edited rule re-judges the open alarm at once: higher under the new levels (one escalation), then closed (rule_changed)', async () => {
    const x = await openAlarm();
    // 610 cm is Meldestufe III under the new lines: escalated now, without a new reading
    await s.ok('PATCH', `/api/v1/rules/${x.ruleId}`, { thresholds: [500, 560, 605] });
    await s.alerting!.settle();
    let a = await h.alarm(x.id);
    expect(a).toMatchObject({ state: 'firing', severity: 'extreme', threshold: 605 });
    expect(a.events.map((e) => `${e.kind}:${e.severity}`)).toEqual(['firing:severe', 'escalated:extreme']);
    await x.r.waitRequests(2);
    expect(types(x.r)).toEqual(['alarm.firing', 'alarm.escalated']);
    // a level that changed only by hysteresis keeps the alarm where it is
    await s.ok('PATCH', `/api/v1/rules/${x.ruleId}`, { thresholds: [500, 560, 612], clear: { hysteresis: 5 } });
    await s.alerting!.settle();
    a = await h.alarm(x.id);
    expect(a.events.map((e) => `${e.kind}:${e.severity}`)).toEqual(['firing:severe', 'escalated:extreme']);
    // nothing holds under these lines: closed, not resolved
    await s.ok('PATCH', `/api/v1/rules/${x.ruleId}`, { thresholds: [700, 750, 800] });
    await s.alerting!.settle();
    await x.r.waitRequests(3);
    a = await h.alarm(x.id);
    expect(a).toMatchObject({ state: 'closed', closedReason: 'rule_changed' });
    expect(types(x.r)).toEqual(['alarm.firing', 'alarm.escalated', 'alarm.closed']);
    await h.send(x.dev, clock.t + MIN, { level_cm: 611 });
    await h.advance(2 * HOUR, 5 * MIN);
    expect(types(x.r), 'no all-clear, no reminder, no second alarm').toEqual(['alarm.firing', 'alarm.escalated', 'alarm.closed']);
    expect(smsTo(x.phone).at(-1)).toMatch(/^BEENDET \(Regel geändert\): /);
  });

  it('an edited rule under which the alarm is lower de-escalates it once', async () => {
    const x = await openAlarm();
    await s.ok('PATCH', `/api/v1/rules/${x.ruleId}`, { thresholds: [550, 620, 650] });
    await s.alerting!.settle();
    await x.r.waitRequests(2);
    const a = await h.alarm(x.id);
    expect(a).toMatchObject({ state: 'firing', severity: 'moderate' });
    expect(types(x.r)).toEqual(['alarm.firing', 'alarm.deescalated']);
  });

  it('nobody acknowledged: its own event alarm.escalated_unacknowledged, "ESKALATION: Alarm N seit 10 min nicht quittiert", in the events', async () => {
    const dev = `lc${++n}`;
    clock.set(clock.t + SEGMENT);
    await h.device(dev);
    await h.rule({ preset: 'pegel-meldestufen', thresholds: [550, 600, 650], scope: { deviceIds: [dev] } });
    const first = await rx();
    const esc = await rx();
    const phone = '+4915199990001';
    await h.route({
      name: `route ${dev}`,
      match: { minSeverity: 'moderate', deviceIds: [dev] },
      targets: [webhook(first.url)],
      escalate: { after: '10m', targets: [webhook(esc.url), { type: 'sms', to: phone }] },
    });
    await h.send(dev, clock.t, { level_cm: 610 });
    const [a] = await h.alarms({ deviceId: dev });
    await h.advance(11 * MIN, MIN);
    const [req] = await esc.waitRequests(1);
    const body = JSON.parse(req.body);
    expect(body.type).toBe('alarm.escalated_unacknowledged');
    expect(body.alarm.message).toMatch(new RegExp(`^ESKALATION: Alarm ${a.id} seit 10 min nicht quittiert – `));
    const [text] = smsTo(phone);
    expect(text).toMatch(new RegExp(`^ESKALATION: Alarm ${a.id} seit 10 min nicht quittiert - HOCHWASSER Meldestufe II: Pegel 610 cm`));
    const view = await h.alarm(a.id);
    expect(view.events.map((e) => e.kind)).toEqual(['firing', 'escalated_unacknowledged']);
    expect(view.severity, 'the severity did not change').toBe('severe');
    expect(types(first)).toEqual(['alarm.firing']);
  });
});
