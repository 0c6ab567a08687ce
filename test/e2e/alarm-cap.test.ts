// CAP 1.2 documents of a live alarm through its life: Alert on firing, Update on escalation, Cancel on the
// all-clear. Each validates against the vendored OASIS schema, and each references the earlier ones so a
// CAP consumer (MoWaS/warning apps) can chain them. [docs/formats.md CAP 1.2]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clock, Harness, MIN, pastStart, receiver, webhook } from '../helpers/alarms.ts';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

const XSD = path.resolve(import.meta.dirname, '../fixtures/cap/CAP-v1.2.xsd');
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;
const required = process.env.REQUIRE_EXTERNAL_SERVICES === '1';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-cap-e2e-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function xmllint(xml: string, name: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, xml);
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' });
  return r.status === 0 ? '' : r.stderr;
}

const tag = (xml: string, t: string) => new RegExp(`<${t}>([^<]*)</${t}>`).exec(xml)?.[1];
interface Doc {
  xml: string;
  identifier: string;
  sender: string;
  sent: string;
  msgType: string;
  references: string[];
}
const parse = (xml: string): Doc => ({
  xml,
  identifier: tag(xml, 'identifier')!,
  sender: tag(xml, 'sender')!,
  sent: tag(xml, 'sent')!,
  msgType: tag(xml, 'msgType')!,
  references: (tag(xml, 'references') ?? '').split(' ').filter(Boolean),
});

describe.skipIf(!hasXmllint && !required).each(['pglite', 'pg'] as const)('CAP documents of a live alarm on %s', (store) => {
  let s: TestSystem;
  let h: Harness;
  let sms: Awaited<ReturnType<typeof receiver>>;
  const clock = new Clock(pastStart(30 * 60 * MIN));
  beforeAll(async () => {
    sms = await receiver([200]);
    s = await startSystem({
      store,
      now: clock.now,
      env: { CAP_ARS: 'default=065310005005,wetzlar=065320023023', SMS_PROVIDER: 'http', SMS_HTTP_URL: `${sms.url}/sms`, SMS_HTTP_TOKEN: 'gw' },
    });
    h = new Harness(s, clock);
  });
  afterAll(async () => {
    h?.close();
    await s?.close();
    await sms?.close();
  });

  it('Alert → Update → Cancel, each schema-valid, each referencing the earlier identifiers', async () => {
    expect(hasXmllint, 'xmllint missing: apt-get install -y libxml2-utils').toBe(true);
    await h.device('lahn');
    await h.rule({ preset: 'pegel-meldestufen', thresholds: [550, 600, 650], scope: { deviceIds: ['lahn'] } });
    const t0 = clock.t;
    const cap = async (id: string) => {
      const r = await s.api<string>('GET', `/api/v1/cap/alerts/${id}.xml`);
      expect(r.status).toBe(200);
      return parse(r.body);
    };
    const docs: Doc[] = [];

    await h.send('lahn', t0 + 10 * MIN, { level_cm: 556 });
    const [a] = await h.alarms({ deviceId: 'lahn' });
    docs.push(await cap(a.id));
    const feed = await s.api<string>('GET', '/api/v1/cap/alerts.atom');
    expect(feed.body).toContain(`/api/v1/cap/alerts/${a.id}.xml`);

    await h.send('lahn', t0 + 20 * MIN, { level_cm: 580 });
    await h.send('lahn', t0 + 30 * MIN, { level_cm: 604 }); // MS II: escalation
    docs.push(await cap(a.id));

    await s.ok('POST', `/api/v1/alarms/${a.id}/ack`, {}); // no CAP message of its own
    await h.send('lahn', t0 + 40 * MIN, { level_cm: 575 });
    await h.send('lahn', t0 + 50 * MIN, { level_cm: 540 });
    await h.send('lahn', t0 + 60 * MIN, { level_cm: 520 });
    await h.advance(30 * MIN, MIN); // below MS I - hysteresis for clear.for: resolved
    expect((await h.alarm(a.id)).state).toBe('resolved');
    docs.push(await cap(a.id));

    expect(docs.map((d) => d.msgType)).toEqual(['Alert', 'Update', 'Cancel']);
    expect(new Set(docs.map((d) => d.identifier)).size).toBe(3);
    for (const [i, d] of docs.entries()) expect(xmllint(d.xml, `${store}-${i}-${d.msgType}.xml`), `${d.msgType} against CAP-v1.2.xsd`).toBe('');
    expect(docs[0].references).toEqual([]);
    // references: "sender,identifier,sent" of every earlier message [CAP 1.2 §3.2.1]
    const ref = (d: Doc) => `${d.sender},${d.identifier},${d.sent}`;
    expect(docs[1].references).toContain(ref(docs[0]));
    expect(docs[2].references).toEqual(expect.arrayContaining([ref(docs[0]), ref(docs[1])]));
    expect(docs[2].xml).toContain('<responseType>AllClear</responseType>');
    expect(Date.parse(docs[2].sent)).toBeGreaterThan(Date.parse(docs[1].sent));

    // issue 10 item 13: operator feed by default (Restricted, with its restriction), every document expires
    for (const d of docs) {
      expect(d.xml).toContain('<status>Actual</status>');
      expect(d.xml).toContain('<scope>Restricted</scope>');
      expect(d.xml).toMatch(/<restriction>[^<]+MoWaS[^<]*<\/restriction>/);
      expect(d.xml).toMatch(/<expires>[^<]+<\/expires>/);
      expect(d.xml, 'a measured alarm has no expected onset').not.toContain('<onset>');
      // the area names the municipality by its Amtlicher Regionalschlüssel (CAP_ARS), as NINA keys warnings
      expect(d.xml).toMatch(/<geocode>\s*<valueName>ARS<\/valueName>\s*<value>065310005005<\/value>\s*<\/geocode>/);
    }
    // the feed lists every alarm changed in the last 24 h: a feed reader sees the Cancel that ends the warning
    const after = await s.api<string>('GET', '/api/v1/cap/alerts.atom');
    expect(after.body, 'the Cancel stays in the feed').toContain(`/api/v1/cap/alerts/${a.id}.xml`);
    await h.advance(25 * 60 * MIN, 60 * MIN);
    const later = await s.api<string>('GET', '/api/v1/cap/alerts.atom');
    expect(later.body, 'a day after its end the alarm leaves the feed').not.toContain(`/api/v1/cap/alerts/${a.id}.xml`);
  }, 120_000);
  it('a radar nowcast alarm: <onset> is the expected time ("ab ca." in the SMS, expectedAt in the webhook); the Cancel has none', async () => {
    const hook = await receiver([200]);
    try {
      const dev = 'catchment-ohm';
      await h.device(dev);
      const ruleId = await h.rule({
        name: 'Radarvorhersage Ohm',
        kind: 'threshold',
        metric: 'forecast_60min_mm',
        scope: { deviceIds: [dev] },
        levels: [{ severity: 'minor', threshold: 20 }],
      });
      await h.route({
        name: 'Leitstelle Ohm',
        match: { deviceIds: [dev] },
        targets: [webhook(hook.url), webhook(hook.url, { format: 'alertmanager' }), { type: 'sms', to: '+4915100030030' }],
      });
      const t1 = clock.t + 5 * MIN;
      // the run at t1 expects the catchment's depth 25 min later
      await h.send(dev, t1, { forecast_60min_mm: 28, forecast_minutes_to_threshold: 25 });
      const [a] = await h.alarms({ ruleId });
      expect(a?.state).toBe('firing');
      const expectedAt = new Date(t1 + 25 * MIN);
      const alert = parse((await s.api<string>('GET', `/api/v1/cap/alerts/${a.id}.xml`)).body);
      expect(alert.msgType).toBe('Alert');
      expect(tag(alert.xml, 'onset')).toBe(`${expectedAt.toISOString().slice(0, 19)}+00:00`);
      expect(tag(alert.xml, 'certainty')).toBe('Likely');
      expect(tag(alert.xml, 'sent'), 'sent stays the firing time').toBe(`${new Date(t1).toISOString().slice(0, 19)}+00:00`);
      expect(xmllint(alert.xml, `${store}-nowcast-alert.xml`), 'Alert with onset against CAP-v1.2.xsd').toBe('');

      // the webhook (its message too), the Alertmanager body and the SMS say the same time
      await hook.waitRequests(2, 30_000);
      const fired = hook.bodies().find((b) => b.type === 'alarm.firing' && b.alarm.id === a.id);
      expect(fired.alarm.expectedAt).toBe(expectedAt.toISOString());
      const hhmm = new Intl.DateTimeFormat('de-DE', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(expectedAt);
      expect(fired.alarm.message).toMatch(new RegExp(`, ab ca\\. ${hhmm}$`));
      const am = hook.bodies().find((b) => b.version === '4' && b.groupLabels.alarmId === a.id);
      expect(am.alerts[0].annotations.expected_at).toBe(expectedAt.toISOString());
      expect(am.commonAnnotations.expected_at).toBe(expectedAt.toISOString());
      expect(am.alerts[0].annotations.summary).toBe(fired.alarm.message);
      const text = await waitFor(() => sms.bodies().find((b) => b.to === '+4915100030030')?.text as string | undefined, 30_000, 'the SMS');
      expect(text).toContain(`ab ca. ${hhmm}`);

      // the forecast drops: the all-clear (Cancel) expects nothing
      await h.send(dev, t1 + 5 * MIN, { forecast_60min_mm: 2, forecast_minutes_to_threshold: 999 });
      await h.advance(30 * MIN, MIN);
      expect((await h.alarm(a.id)).state).toBe('resolved');
      const cancel = parse((await s.api<string>('GET', `/api/v1/cap/alerts/${a.id}.xml`)).body);
      expect(cancel.msgType).toBe('Cancel');
      expect(cancel.xml).not.toContain('<onset>');
      expect(xmllint(cancel.xml, `${store}-nowcast-cancel.xml`)).toBe('');
    } finally {
      await hook.close();
    }
  }, 120_000);
});
