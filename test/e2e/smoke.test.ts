import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, startSystem, type TestSystem } from '../helpers/system.ts';

describe.each(['pglite', 'pg'] as const)('whole system on %s', (store) => {
  let s: TestSystem;
  beforeAll(async () => {
    s = await startSystem({ store });
  });
  afterAll(() => s?.close());

  it('stores a native reading published over MQTT and serves it back', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'g1', name: 'Gauge 1', model: 'generic' });
    const c = await s.mqttClient();
    const t = new Date(Date.now() - 1000).toISOString();
    await publish(c, 'devices/g1/up', { time: t, readings: { level_cm: 123.4 } });
    c.end(true);
    const r = await s.ok('GET', '/api/v1/devices/g1/readings?metric=level_cm');
    expect(r.points).toEqual([{ time: t, value: 123.4 }]);
    expect(r.unit).toBe('cm');
  });
});
