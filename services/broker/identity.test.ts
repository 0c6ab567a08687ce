// Identity binding: the topic is what a credential's ACL allows; a body naming another device (ChirpStack
// deviceInfo.devEui, TTS end_device_ids.dev_eui / device_id) is rejected as identity_mismatch and stored for
// neither device, so a gauge's credential cannot inject readings for its neighbour.
import crypto from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, startSystem, type TestSystem } from '../../test/helpers/system.ts';

const EUI_X = 'A8404100000000AA';
const EUI_Y = 'A8404100000000BB';
const FRAME = Buffer.from('0D3B0AEF00000001', 'hex').toString('base64'); // Dragino LDDS75: 2799 mm

let s: TestSystem;
let fCnt = 1;
const chirpstack = (devEui: string, marker: string) => ({
  deduplicationId: marker,
  time: new Date(Date.now() - 1000).toISOString(),
  deviceInfo: { devEui },
  fCnt: fCnt++,
  fPort: 2,
  data: FRAME,
});
const tts = (ids: Record<string, string>, marker: string) => ({
  end_device_ids: ids,
  marker,
  received_at: new Date(Date.now() - 1000).toISOString(),
  uplink_message: { f_port: 2, f_cnt: fCnt++, frm_payload: FRAME },
});

beforeAll(async () => {
  s = await startSystem({ store: 'pg' });
  await s.ok('POST', '/api/v1/devices', { id: 'gauge-x', name: 'X', model: 'dragino-ldds75', devEui: EUI_X });
  await s.ok('POST', '/api/v1/devices', { id: 'gauge-y', name: 'Y', model: 'dragino-ldds75', devEui: EUI_Y });
});
afterAll(() => s?.close());

const distances = async (id: string) => (await s.ok('GET', `/api/v1/devices/${id}/readings?metric=distance_mm&from=2020-01-01T00:00:00Z`)).points;

describe('a device credential naming another device in the body', () => {
  let x: MqttClient;
  beforeAll(async () => {
    // what an integrator gives gauge X's gateway or TTS application: its own topics only
    x = await s.mqttClient([`application/+/device/${EUI_X.toLowerCase()}/event/up`, 'v3/+/devices/gauge-x/up', `v3/+/devices/eui-${EUI_X.toLowerCase()}/up`]);
  });
  afterAll(() => x?.end(true));

  it.each([
    ['ChirpStack deviceInfo.devEui of Y on X’s topic', `application/app/device/${EUI_X.toLowerCase()}/event/up`, (m: string) => chirpstack(EUI_Y, m)],
    ['TTS dev_eui of Y on X’s topic', 'v3/app/devices/gauge-x/up', (m: string) => tts({ device_id: 'gauge-x', dev_eui: EUI_Y }, m)],
    ['TTS device_id of Y on X’s topic', 'v3/app/devices/gauge-x/up', (m: string) => tts({ device_id: 'gauge-y' }, m)],
    [
      'TTS dev_eui of Y on X’s eui- topic',
      `v3/app/devices/eui-${EUI_X.toLowerCase()}/up`,
      (m: string) => tts({ device_id: `eui-${EUI_X.toLowerCase()}`, dev_eui: EUI_Y }, m),
    ],
  ])('%s → identity_mismatch, no reading for X or Y', async (_what, topic, body) => {
    const marker = `id-${crypto.randomBytes(5).toString('hex')}`;
    await publish(x, topic, body(marker)); // acknowledged: kept as a rejected uplink
    const r = await s.ok('GET', '/api/v1/rejected-uplinks?reason=identity_mismatch');
    const hit = r.items.find((i: { payload: string }) => i.payload.includes(marker));
    expect(hit, 'identity_mismatch rejection').toBeDefined();
    expect(hit.topic).toBe(topic);
    expect(hit.deviceId).toBe('gauge-x');
    expect(await distances('gauge-x')).toEqual([]);
    expect(await distances('gauge-y')).toEqual([]);
  });

  it('the same credential with its own devEui in the body is stored for X, on both envelopes', async () => {
    await publish(x, `application/app/device/${EUI_X.toLowerCase()}/event/up`, chirpstack(EUI_X, 'own-cs'));
    await publish(x, `v3/app/devices/eui-${EUI_X.toLowerCase()}/up`, {
      ...tts({ device_id: `eui-${EUI_X.toLowerCase()}`, dev_eui: EUI_X }, 'own-tts'),
      received_at: new Date(Date.now() - 500).toISOString(),
    });
    expect((await distances('gauge-x')).map((p: { value: number }) => p.value)).toEqual([2799, 2799]);
    expect(await distances('gauge-y')).toEqual([]);
  });
});
