// runSimulator end to end on an in-memory publisher: seeds, time layout, envelopes, faults.
import { describe, expect, it } from 'vitest';
import { runSimulator } from './simulator.ts';
import { memoryPublisher } from './test-helpers.ts';

const BASE = ['--username', 'u', '--password', 'p', '--speed', '100000'];

async function run(args: string[]) {
  const pub = memoryPublisher();
  let t = Date.parse('2025-06-01T12:00:00Z');
  // a clock that advances 1 ms per call keeps the pacing loop from sleeping
  const summary = await runSimulator([...BASE, ...args], { publisher: pub, now: () => t++ });
  return { summary, messages: pub.messages, bodies: pub.messages.map((m) => JSON.parse(m.payload)) };
}

describe('seeded determinism', () => {
  it('the same seed gives the same payload sequence, another seed does not', async () => {
    const args = ['--scenario', 'euler2', '--devices', '3', '--faults', 'spike,duplicate', '--seed'];
    const a = await run([...args, 'abc']);
    const b = await run([...args, 'abc']);
    const c = await run([...args, 'xyz']);
    expect(a.messages.length).toBeGreaterThan(100);
    expect(b.messages).toEqual(a.messages);
    expect(c.messages).not.toEqual(a.messages);
  });
});

describe('time layout', () => {
  it('a 60-min storm ends at "now" and every timestamp is in the past', async () => {
    const { bodies, summary } = await run(['--scenario', 'euler2', '--format', 'native', '--seed', '1']);
    const times = bodies.map((b) => Date.parse(b.time));
    expect(times[0]).toBeGreaterThan(Date.parse('2025-06-01T11:00:00Z') - 1000);
    expect(times.at(-1)! - times[0]).toBe(3_600_000);
    expect(times.at(-1)!).toBeLessThanOrEqual(Date.parse('2025-06-01T12:00:00Z') + summary.wallMs);
    const rain = bodies.reduce((s, b) => s + b.readings.rain_mm, 0);
    expect(rain).toBeCloseTo(28.8, 1); // S1 through a 0.2 mm gauge: 28.8 = 144 tips exactly
  });
});

describe('envelopes', () => {
  it('chirpstack: v4 UplinkEvent, lower-case devEui in topic and body, fCnt omitted when 0', async () => {
    const { messages, bodies } = await run(['--devices', '2', '--duration', '5m', '--seed', '2']);
    expect(messages[0].topic).toMatch(/^application\/[0-9a-f-]{36}\/device\/5e55000000000001\/event\/up$/);
    expect(messages[0].qos).toBe(1);
    const first = bodies[0];
    expect(first.fCnt).toBeUndefined();
    expect(first.deviceInfo.devEui).toBe('5e55000000000001');
    expect(first.deviceInfo.deviceName).toBe('sim-dragino-sn50v3-count-1');
    expect(first.deduplicationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+00:00$/);
    expect(Object.keys(first.rxInfo[0])).toEqual(expect.arrayContaining(['gatewayId', 'uplinkId', 'rssi', 'snr', 'context', 'crcStatus', 'time']));
    expect(bodies[2].fCnt).toBe(1);
    expect(Buffer.from(first.data, 'base64')[6]).toBe(5 << 2);
  });

  it('tts: v3 snake_case on v3/{app}@{tenant}/devices/{id}/up, frequency as a string', async () => {
    const { messages, bodies } = await run(['--format', 'tts', '--model', 'dragino-ldds75', '--duration', '5m', '--tail', '0', '--seed', '3']);
    expect(messages[0].topic).toBe('v3/regenwacht-sim@ttn/devices/sim-dragino-ldds75-1/up');
    expect(bodies[0].uplink_message.f_cnt).toBeUndefined();
    expect(bodies[1].uplink_message.f_cnt).toBe(1);
    expect(typeof bodies[0].uplink_message.settings.frequency).toBe('string');
    expect(bodies[0].end_device_ids.dev_eui).toBe('5E55000000000001');
    expect(Buffer.from(bodies[0].uplink_message.frm_payload, 'base64')).toHaveLength(8);
  });

  it('native level sensors send level_cm that rises after the rain and recedes', async () => {
    const { bodies } = await run(['--format', 'native', '--model', 'dragino-ldds75', '--scenario', 'euler2', '--tail', '3h', '--seed', '4']);
    const level = bodies.map((b) => b.readings.level_cm as number);
    const peakAt = level.indexOf(Math.max(...level));
    expect(peakAt).toBeGreaterThan(20); // lags the rain peak at 15–20 min
    expect(level[peakAt] - level[0]).toBeGreaterThan(30);
    expect(level.at(-1)!).toBeLessThan(level[0] + (level[peakAt] - level[0]) / 2);
  });
});
