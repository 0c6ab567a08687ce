// Several municipalities on one installation (interkommunale Kooperation) [README.md "Several municipalities"]: a token with
// an org sees and changes only that municipality's devices, rules, routes, silences and alarms, and a rule,
// route or silence of one municipality never applies to another's devices, even when the tags match.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiver, webhook } from '../helpers/alarms.ts';
import { publish, startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

let s: TestSystem;
const tk: Record<string, string> = {};
const as = (who: string) => (method: string, p: string, body?: unknown) => s.api(method, p, body, tk[who]);
const ok = async (who: string, method: string, p: string, body?: unknown) => {
  const r = await as(who)(method, p, body);
  if (r.status >= 300) throw new Error(`${who}: ${method} ${p} -> ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
};
const ids = (xs: { id: string }[]) => xs.map((x) => x.id).sort();

const rule = (name: string) => ({
  name,
  kind: 'threshold',
  metric: 'level_cm',
  scope: { tags: { river: 'lahn' } },
  levels: [{ severity: 'severe', threshold: 100 }],
  clear: { hysteresis: 0, for: '0m' },
});

let giessenRule: string;
let wetzlarRule: string;
let giessenHook: Awaited<ReturnType<typeof receiver>>;
let wetzlarHook: Awaited<ReturnType<typeof receiver>>;

beforeAll(async () => {
  // the municipalities' receivers run on this machine: the installation allows them that network [webhook-egress.ts]
  s = await startSystem({ store: 'pglite', env: { WEBHOOK_ALLOW_NETS: '127.0.0.0/8' } });
  tk.root = s.token;
  // the bootstrap admin hands each municipality its tokens
  for (const org of ['giessen', 'wetzlar']) {
    for (const role of ['admin', 'operator']) {
      const r = await s.api('POST', '/api/v1/tokens', { name: `${org}-${role}`, role, org });
      expect(r.status).toBe(201);
      expect(r.body.org).toBe(org);
      tk[`${org}-${role}`] = r.body.token;
    }
  }
  giessenHook = await receiver();
  wetzlarHook = await receiver();
  // the same tag on both municipalities' gauges, and a rule and a route selecting by that tag in each
  await ok('giessen-operator', 'POST', '/api/v1/devices', { id: 'gi-pegel', name: 'Pegel Gießen', model: 'generic', tags: { river: 'lahn' } });
  await ok('wetzlar-operator', 'POST', '/api/v1/devices', { id: 'wz-pegel', name: 'Pegel Wetzlar', model: 'generic', tags: { river: 'lahn' } });
  giessenRule = (await ok('giessen-operator', 'POST', '/api/v1/rules', rule('Lahn hoch Gießen'))).id;
  wetzlarRule = (await ok('wetzlar-operator', 'POST', '/api/v1/rules', rule('Lahn hoch Wetzlar'))).id;
  await ok('giessen-operator', 'POST', '/api/v1/routes', { name: 'Feuerwehr Gießen', match: { tags: { river: 'lahn' } }, targets: [webhook(giessenHook.url)] });
  await ok('wetzlar-operator', 'POST', '/api/v1/routes', {
    name: 'Feuerwehr Wetzlar',
    match: { tags: { river: 'lahn' } },
    targets: [webhook(wetzlarHook.url)],
  });
  // a device without org: the installation's default municipality, as before orgs existed
  await s.ok('POST', '/api/v1/devices', { id: 'plain', name: 'ohne Kommune', model: 'generic', tags: { river: 'lahn' } });
});
afterAll(async () => {
  await s?.close();
  await giessenHook?.close();
  await wetzlarHook?.close();
});

describe('an org-scoped token', () => {
  it('stamps its org on what it creates', async () => {
    expect((await ok('giessen-operator', 'GET', '/api/v1/devices/gi-pegel')).org).toBe('giessen');
    expect((await ok('wetzlar-operator', 'GET', `/api/v1/rules/${wetzlarRule}`)).org).toBe('wetzlar');
    expect((await s.ok('GET', '/api/v1/devices/plain')).org).toBe('default');
  });

  it('lists only its own devices, rules and routes', async () => {
    expect(ids((await ok('giessen-operator', 'GET', '/api/v1/devices')).items)).toEqual(['gi-pegel']);
    expect(ids((await ok('wetzlar-operator', 'GET', '/api/v1/devices')).items)).toEqual(['wz-pegel']);
    expect(ids((await ok('giessen-operator', 'GET', '/api/v1/rules')).items)).toEqual([giessenRule]);
    expect(ids((await ok('wetzlar-operator', 'GET', '/api/v1/rules')).items)).toEqual([wetzlarRule]);
    expect((await ok('giessen-operator', 'GET', '/api/v1/routes')).items.map((r: { name: string }) => r.name)).toEqual(['Feuerwehr Gießen']);
  });

  it("answers 404 for another municipality's device and rule, as if they did not exist", async () => {
    for (const [m, p, body] of [
      ['GET', '/api/v1/devices/wz-pegel'],
      ['PATCH', '/api/v1/devices/wz-pegel', { name: 'gekapert' }],
      ['DELETE', '/api/v1/devices/wz-pegel'],
      ['GET', '/api/v1/devices/wz-pegel/readings?metric=level_cm'],
      ['GET', `/api/v1/rules/${wetzlarRule}`],
      ['PATCH', `/api/v1/rules/${wetzlarRule}`, { name: 'gekapert' }],
      ['DELETE', `/api/v1/rules/${wetzlarRule}`],
      ['POST', `/api/v1/rules/${wetzlarRule}/backtest`, { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString() }],
    ] as const) {
      const r = await as('giessen-operator')(m, p, body);
      expect(r.status, `${m} ${p}`).toBe(404);
      expect(r.body.error.code).toBe('NOT_FOUND');
    }
    // untouched
    expect((await ok('wetzlar-operator', 'GET', '/api/v1/devices/wz-pegel')).name).toBe('Pegel Wetzlar');
  });

  it('may not create for another municipality (403), nor use installation-wide things', async () => {
    const d = await as('giessen-operator')('POST', '/api/v1/devices', { id: 'x1', name: 'x', model: 'generic', org: 'wetzlar' });
    expect(d.status).toBe(403);
    expect(d.body.error.message).toMatch(/giessen.*wetzlar/);
    expect((await as('giessen-operator')('POST', '/api/v1/rules', { ...rule('x'), org: 'wetzlar' })).status).toBe(403);
    // MQTT credentials: a municipality sees and makes only its own (for its own devices' topics)
    const creds = await as('giessen-admin')('GET', '/api/v1/mqtt-credentials');
    expect(creds.status).toBe(200);
    expect(creds.body.items.every((c: { org: string }) => c.org === 'giessen')).toBe(true);
    expect((await as('giessen-admin')('GET', '/api/v1/codecs')).status).toBe(403);
  });

  it('a municipality admin creates tokens only for its own municipality', async () => {
    const other = await as('giessen-admin')('POST', '/api/v1/tokens', { name: 'sneaky', role: 'operator', org: 'wetzlar' });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('FORBIDDEN');
    expect(other.body.error.message).toMatch(/only create tokens for 'giessen'/);
    // omitted org: its own; the new token is confined too
    const own = await as('giessen-admin')('POST', '/api/v1/tokens', { name: 'viewer', role: 'viewer' });
    expect(own.status).toBe(201);
    expect(own.body.org).toBe('giessen');
    expect(ids((await s.api('GET', '/api/v1/devices', undefined, own.body.token)).body.items)).toEqual(['gi-pegel']);
  });
});

describe('evaluation and notification', () => {
  let alarmId: string;

  it("a Wetzlar reading fires only the Wetzlar rule and reaches only Wetzlar's route, though the tags match everywhere", async () => {
    const c = await s.mqttClient();
    await publish(c, 'devices/wz-pegel/up', { readings: { level_cm: 150 } });
    c.end(true);
    const alarms = await waitFor(
      async () => {
        await s.alerting!.settle();
        const x = (await s.ok('GET', '/api/v1/alarms')).items;
        return x.length ? x : null;
      },
      8000,
      'an alarm',
    );
    await wetzlarHook.waitRequests(1);
    await s.alerting!.settle();
    const all = (await s.ok('GET', '/api/v1/alarms')).items;
    expect(all.map((a: { ruleId: string; deviceId: string }) => [a.ruleId, a.deviceId])).toEqual([[wetzlarRule, 'wz-pegel']]);
    alarmId = alarms[0].id;
    expect(wetzlarHook.bodies()[0].alarm.deviceId).toBe('wz-pegel');
    expect(giessenHook.requests).toHaveLength(0);
  });

  it("each operator sees only its own municipality's alarms; another's answers 404", async () => {
    expect((await ok('wetzlar-operator', 'GET', '/api/v1/alarms')).items.map((a: { id: string }) => a.id)).toEqual([alarmId]);
    expect((await ok('giessen-operator', 'GET', '/api/v1/alarms?state=all')).items).toEqual([]);
    expect((await as('giessen-operator')('GET', `/api/v1/alarms/${alarmId}`)).status).toBe(404);
    expect((await as('giessen-operator')('POST', `/api/v1/alarms/${alarmId}/ack`, {})).status).toBe(404);
    expect((await as('giessen-operator')('GET', `/api/v1/cap/alerts/${alarmId}.xml`)).status).toBe(404);
    const feed = await as('giessen-operator')('GET', '/api/v1/cap/alerts.atom');
    expect(feed.status).toBe(200);
    expect(String(feed.body)).not.toContain('wz-pegel');
    expect((await ok('wetzlar-operator', 'GET', `/api/v1/alarms/${alarmId}`)).deviceId).toBe('wz-pegel');
    expect((await ok('wetzlar-operator', 'POST', `/api/v1/alarms/${alarmId}/ack`, {})).state).toBe('acknowledged');
  });

  it("a Gießen silence selecting by tag holds Gießen's alarms and nothing of Wetzlar's", async () => {
    await ok('giessen-operator', 'POST', '/api/v1/silences', { match: { tags: { river: 'lahn' } }, endsAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await ok('wetzlar-operator', 'GET', '/api/v1/silences')).items).toEqual([]);
    await ok('wetzlar-operator', 'POST', '/api/v1/devices', { id: 'wz-sil', name: 'Pegel Wetzlar 2', model: 'generic', tags: { river: 'lahn' } });
    const c = await s.mqttClient();
    await publish(c, 'devices/wz-sil/up', { readings: { level_cm: 150 } });
    await publish(c, 'devices/gi-pegel/up', { readings: { level_cm: 150 } });
    c.end(true);
    await waitFor(
      async () => {
        await s.alerting!.settle();
        return wetzlarHook.bodies().some((b) => b.alarm.deviceId === 'wz-sil');
      },
      8000,
      'the Wetzlar alarm despite the Gießen silence',
    );
    const gi = await waitFor(
      async () => {
        await s.alerting!.settle();
        return (await ok('giessen-operator', 'GET', '/api/v1/alarms')).items[0];
      },
      8000,
      'the Gießen alarm',
    );
    expect(gi.ruleId).toBe(giessenRule);
    const view = await ok('giessen-operator', 'GET', `/api/v1/alarms/${gi.id}`);
    expect(view.notifications.map((n: { state: string }) => n.state)).toEqual(['held']);
    expect(giessenHook.requests).toHaveLength(0);
  });
});

describe('an installation-wide token', () => {
  it('sees every municipality', async () => {
    expect(ids((await s.ok('GET', '/api/v1/devices')).items)).toEqual(['gi-pegel', 'plain', 'wz-pegel', 'wz-sil']);
    expect(ids((await s.ok('GET', '/api/v1/rules')).items)).toEqual([giessenRule, wetzlarRule].sort());
    expect((await s.ok('GET', '/api/v1/routes')).items).toHaveLength(2);
    expect((await s.ok('GET', '/api/v1/alarms?state=all')).items.map((a: { deviceId: string }) => a.deviceId).sort()).toEqual([
      'gi-pegel',
      'wz-pegel',
      'wz-sil',
    ]);
    expect((await s.ok('GET', '/api/v1/silences')).items).toHaveLength(1);
  });

  it('may create for any municipality, and the reserved org tag never shows', async () => {
    const d = await s.ok('POST', '/api/v1/devices', { id: 'wz-2', name: 'Wetzlar 2', model: 'generic', org: 'wetzlar', tags: { river: 'dill' } });
    expect(d.org).toBe('wetzlar');
    expect(d.tags).toEqual({ river: 'dill' });
    expect(ids((await ok('wetzlar-operator', 'GET', '/api/v1/devices')).items)).toEqual(['wz-2', 'wz-pegel', 'wz-sil']);
    expect((await ok('wetzlar-operator', 'GET', `/api/v1/rules/${wetzlarRule}`)).scope).toEqual({ tags: { river: 'lahn' } });
  });

  it('rejects a malformed org', async () => {
    const r = await s.api('POST', '/api/v1/tokens', { name: 'x', role: 'viewer', org: 'Gießen!' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
  });
});
