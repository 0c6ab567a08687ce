// Data is bound to its municipality, not to a device id (issue 11): alarms and rejected uplinks carry the
// org they were recorded for, a deleted device's id stays with its municipality, and asking for an id that
// another municipality holds (or held) tells nothing about it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

let s: TestSystem;
const tk: Record<string, string> = {};
const as = (who: string) => (method: string, p: string, body?: unknown) => s.api(method, p, body, tk[who]);
const ok = async (who: string, method: string, p: string, body?: unknown) => {
  const r = await as(who)(method, p, body);
  if (r.status >= 300) throw new Error(`${who}: ${method} ${p} -> ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
};
const rule = {
  name: 'Pegel hoch',
  kind: 'threshold',
  metric: 'level_cm',
  scope: { tags: { river: 'lahn' } },
  levels: [{ severity: 'severe', threshold: 100 }],
  clear: { hysteresis: 0, for: '0m' },
};
const device = (id: string) => ({
  id,
  name: `Pegel ${id}`,
  model: 'generic',
  devEui: id === 'pegel-01' ? '70B3D57ED0000001' : undefined,
  tags: { river: 'lahn' },
});

let alarmId: string;

beforeAll(async () => {
  s = await startSystem({ store: 'pg' });
  for (const org of ['giessen', 'wetzlar']) tk[org] = (await s.ok('POST', '/api/v1/tokens', { name: `${org}-admin`, role: 'admin', org })).token;
  await ok('giessen', 'POST', '/api/v1/devices', device('pegel-01'));
  await ok('giessen', 'POST', '/api/v1/rules', rule);
  await ok('wetzlar', 'POST', '/api/v1/devices', device('wz-eigen'));
  await ok('wetzlar', 'POST', '/api/v1/rules', rule);
  // Gießen's gauge: an alarm, a rejected uplink, readings
  const c = await s.mqttClient();
  await publish(c, 'devices/pegel-01/up', { readings: { level_cm: 150 } });
  await publish(c, 'devices/pegel-01/up', '{"readings": broken');
  c.end(true);
  alarmId = (
    await waitFor(
      async () => {
        await s.alerting!.settle();
        return (await ok('giessen', 'GET', '/api/v1/alarms')).items[0];
      },
      8000,
      "Gießen's alarm",
    )
  ).id;
  await waitFor(async () => (await ok('giessen', 'GET', '/api/v1/rejected-uplinks')).items.length > 0, 8000, "Gießen's rejected uplink");
});
afterAll(() => s?.close());

describe('a device id another municipality holds or held', () => {
  it('answers POST /devices exactly like an id taken in its own municipality', async () => {
    const theirs = await as('wetzlar')('POST', '/api/v1/devices', device('pegel-01'));
    const own = await as('wetzlar')('POST', '/api/v1/devices', device('wz-eigen'));
    expect(theirs.status).toBe(409);
    expect(own.status).toBe(409);
    expect(theirs.body.error.message.replace('pegel-01', 'X')).toBe(own.body.error.message.replace('wz-eigen', 'X'));
    expect(JSON.stringify(theirs.body)).not.toMatch(/giessen|another municipality/i);
  });

  it('a devEui another municipality registered is refused without naming its device or municipality', async () => {
    const r = await as('wetzlar')('POST', '/api/v1/devices', { ...device('wz-neu'), devEui: '70B3D57ED0000001' });
    expect(r.status).toBe(409);
    expect(JSON.stringify(r.body)).not.toMatch(/pegel-01|giessen|another municipality/i);
  });

  it('after Gießen deletes it, Wetzlar cannot take the id over, even through an installation-wide admin', async () => {
    expect((await as('giessen')('DELETE', '/api/v1/devices/pegel-01')).status).toBe(204);
    const r = await as('wetzlar')('POST', '/api/v1/devices', device('pegel-01'));
    const own = await as('wetzlar')('POST', '/api/v1/devices', device('wz-eigen'));
    expect(r.status).toBe(409);
    expect(r.body.error.message.replace('pegel-01', 'X')).toBe(own.body.error.message.replace('wz-eigen', 'X'));
    expect((await s.api('POST', '/api/v1/devices', { ...device('pegel-01'), org: 'wetzlar' })).status).toBe(409);
  });

  it("Wetzlar sees nothing of Gießen's gauge: no alarm, no CAP document, no rejected uplink, no readings", async () => {
    expect((await ok('wetzlar', 'GET', '/api/v1/alarms?state=all')).items).toEqual([]);
    expect((await as('wetzlar')('GET', `/api/v1/alarms/${alarmId}`)).status).toBe(404);
    expect((await as('wetzlar')('POST', `/api/v1/alarms/${alarmId}/ack`, {})).status).toBe(404);
    expect((await as('wetzlar')('GET', `/api/v1/cap/alerts/${alarmId}.xml`)).status).toBe(404);
    expect(String((await as('wetzlar')('GET', '/api/v1/cap/alerts.atom')).body)).not.toContain('pegel-01');
    expect((await ok('wetzlar', 'GET', '/api/v1/rejected-uplinks')).items).toEqual([]);
    expect((await ok('wetzlar', 'GET', '/api/v1/rejected-uplinks?deviceId=pegel-01')).items).toEqual([]);
    expect((await as('wetzlar')('GET', '/api/v1/devices/pegel-01/readings?metric=level_cm')).status).toBe(404);
  });

  it('Gießen keeps its alarm and rejected uplinks of the deleted gauge, and may register the id again', async () => {
    const a = await ok('giessen', 'GET', `/api/v1/alarms/${alarmId}`);
    expect(a).toMatchObject({ deviceId: 'pegel-01', org: 'giessen' });
    expect((await ok('giessen', 'GET', '/api/v1/alarms?state=all')).items.map((x: { id: string }) => x.id)).toContain(alarmId);
    expect((await ok('giessen', 'GET', '/api/v1/rejected-uplinks?deviceId=pegel-01')).items.length).toBeGreaterThan(0);
    expect((await as('giessen')('POST', '/api/v1/devices', device('pegel-01'))).status).toBe(201);
    expect((await ok('giessen', 'GET', '/api/v1/devices/pegel-01/readings?metric=level_cm')).points.map((p: { value: number }) => p.value)).toEqual([150]);
  });
});
