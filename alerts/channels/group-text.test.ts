import { describe, expect, it } from 'vitest';
import { groupOf, routeSchema } from '../routing/route-schema.ts';
import { alertmanagerGroupBody, groupEmailMessage, groupSmsText, groupWebhookBody } from './group-text.ts';
import { gsm7Length, isGsm7 } from './sms-text.ts';
import { samplePayload } from './test-fixtures.ts';

const storm = (n: number, over: (i: number) => Record<string, unknown> = () => ({})) =>
  Array.from({ length: n }, (_, i) =>
    samplePayload('alarm.firing', { id: String(10 + i), deviceId: `lahn-${i + 1}`, deviceName: `Pegel Lahn ${i + 1}`, value: 26 + i, ...over(i) }),
  );

describe('grouped SMS [issue 16]', () => {
  it('names the count, the group, the highest alarm and every alarm id', () => {
    const text = groupSmsText({ label: 'Lahn', earlier: 0, alarms: storm(7, (i) => (i === 3 ? { value: 41.6 } : {})) });
    expect(text).toBe(
      'UNWETTER Stufe 3 an 7 Stationen (Lahn): höchste 41,6 mm Regen in 1 h an Pegel Lahn 4 (lahn-4) seit 14:05. Alarme 10, 11, 12, 13, 14, 15, 16',
    );
  });

  it('an update says how many more and how many in all', () => {
    const text = groupSmsText({ label: 'Lahn', earlier: 5, alarms: storm(3) });
    expect(text).toMatch(/^UNWETTER Stufe 3 an 3 weiteren Stationen \(Lahn, 8 insgesamt\): höchste 28 mm/);
  });

  it('the highest severity leads, whatever the values', () => {
    const text = groupSmsText({ label: 'Lahn', earlier: 0, alarms: storm(3, (i) => (i === 0 ? { severity: 'extreme', value: 41 } : { value: 50 })) });
    expect(text).toMatch(/^EXTREMES UNWETTER Stufe 4 an 3 Stationen \(Lahn\): höchste 41 mm Regen in 1 h an Pegel Lahn 1 /);
  });

  it('a storm over 60 gauges with long names still fits one SMS and names the highest station in full', () => {
    const long = 'Regenrückhaltebecken Große Wiese am Überlauf';
    const text = groupSmsText({
      label: 'Einzugsgebiet der Wieseck oberhalb Gießen',
      earlier: 0,
      alarms: storm(60, (i) => ({ deviceName: `${long} ${i}`, id: String(1000 + i), value: i === 59 ? 99 : 30 })),
    });
    expect(gsm7Length(text)).toBeLessThanOrEqual(160);
    expect(isGsm7(text)).toBe(true);
    expect(text).toContain(`${long} 59`);
    expect(text).toMatch(/ an 60 Stationen /);
    expect(text).toMatch(/Alarme 1000(, \d+)* u\. a\.$/);
  });

  it('absurdly long names: still one SMS with the count and an alarm id', () => {
    const text = groupSmsText({ label: 'x'.repeat(300), earlier: 0, alarms: storm(2, () => ({ deviceName: 'y'.repeat(300) })) });
    expect(gsm7Length(text)).toBeLessThanOrEqual(160);
    expect(text).toContain('an 2 Stationen');
  });
});

describe('grouped e-mail and webhook', () => {
  it('the e-mail lists each alarm with its page and its own acknowledge link', () => {
    const alarms = storm(2);
    const m = groupEmailMessage(
      { label: 'Lahn', earlier: 0, alarms },
      { notificationId: 'msg_1', domain: 'kreis.example', alarmUrl: (id) => `https://rw.example/alarms/${id}`, ackUrls: { '10': 'https://rw.example/q/AAAA' } },
    );
    expect(m.subject).toBe('ALARM: UNWETTER Stufe 3 an 2 Stationen (Lahn)');
    expect(m.text).toContain('Alarm ansehen: https://rw.example/alarms/11');
    expect(m.text).toContain('Quittieren: https://rw.example/q/AAAA');
    expect(m.text.match(/Quittieren: /g)).toHaveLength(1);
    expect(m.references).toEqual(['<alarm-11@kreis.example>', '<alarm-10@kreis.example>']);
  });

  it('the webhook body carries the group, every alarm, and the highest as `alarm`', () => {
    const b = groupWebhookBody(
      { label: 'Lahn', earlier: 0, alarms: storm(3) },
      { timestamp: '2026-07-14T12:06:00Z', routeId: 'r1', key: 'tag:catchment=Lahn' },
    );
    expect(b).toMatchObject({ type: 'alarm.grouped', group: { label: 'Lahn', count: 3, earlier: 0, key: 'tag:catchment=Lahn' }, alarm: { id: '12' } });
    expect(b.alarms.map((a) => a.id)).toEqual(['12', '11', '10']);
    const am = alertmanagerGroupBody({ label: 'Lahn', earlier: 0, alarms: storm(3) }, { key: 'tag:catchment=Lahn' });
    expect(am.alerts).toHaveLength(3);
    expect(am.groupLabels).toEqual({ group: 'tag:catchment=Lahn' });
    expect(am.commonLabels).toEqual({ alertname: 'Starkregen Gießen-Nord', severity: 'severe', ruleId: 'rule-7', metric: 'rain_mm' });
  });
});

describe('route grouping fields', () => {
  const base = { name: 'r', targets: [{ type: 'sms', to: '+4915112345678' }] };
  it('accepts rule, org and tag:<name>; rejects anything else', () => {
    expect(routeSchema.safeParse({ ...base, groupBy: ['tag:catchment', 'rule', 'org'], groupWait: '0s', groupInterval: '5m' }).success).toBe(true);
    expect(routeSchema.safeParse({ ...base, groupBy: ['catchment'] }).success).toBe(false);
    expect(routeSchema.safeParse({ ...base, groupBy: [] }).success).toBe(false);
    expect(routeSchema.safeParse({ ...base, groupBy: ['rule'], groupWait: '2h' }).success).toBe(false);
    expect(routeSchema.safeParse({ ...base, groupBy: ['rule'], groupInterval: '5s' }).success).toBe(false);
  });

  it('a route without groupBy does not group; defaults are 30 s wait and 5 min interval', () => {
    expect(groupOf({}, { ruleId: 'r' }, {}, '_org')).toBeUndefined();
    expect(groupOf({ groupBy: ['tag:catchment', 'org'] }, { ruleId: 'r' }, { catchment: 'Lahn', _org: 'giessen' }, '_org')).toEqual({
      key: 'tag:catchment=Lahn|org=giessen',
      label: 'Lahn, giessen',
      waitMs: 30_000,
      intervalMs: 300_000,
    });
    expect(groupOf({ groupBy: ['rule'], groupWait: '0s' }, { ruleId: 'r1', ruleName: 'Starkregen' }, {}, '_org')).toMatchObject({
      key: 'rule=r1',
      label: 'Starkregen',
      waitMs: 0,
    });
  });
});
