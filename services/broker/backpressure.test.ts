// [README.md Configuration: MQTT_MAX_UNACKED] A flood of publishes from many connections is read only as far as
// the bounds allow: past them a connection's socket is not read until its turn, every publish is still
// acknowledged after it is stored, in order, and a connection held back is not dropped by its keepalive.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LiteClient, topicBuf } from '../../bench/mqtt-lite.ts';
import { waitFor } from '../../test/helpers/system.ts';
import type { RawMessage } from '../ingest/types.ts';
import { type RunningBroker, startBroker } from './broker.ts';

/** A device speaking MQTT 3.1.1 over a plain socket (the benchmark's client): it writes its publishes as a backlog. */
class Device {
  acked: number[] = [];
  closed = false;
  connacked = false;
  private constructor(
    readonly client: LiteClient,
    readonly id: string,
  ) {
    client.onAck = (k) => this.acked.push(k);
    client.onClose = () => (this.closed = true);
  }

  static async connect(port: number, id: string, keepaliveS = 0): Promise<Device> {
    const d = new Device(new LiteClient({ host: '127.0.0.1', port, clientId: id, username: 'dev', password: 'pw', keepaliveS }), id);
    await d.client.connect(10_000);
    d.connacked = true;
    return d;
  }

  /** n QoS 1 publishes with ids 1…n (each payload `{"k":id}`, or `payload(id)`), written in one go */
  publishAll(n: number, payload = (k: number) => Buffer.from(`{"k":${k}}`)): void {
    const topic = topicBuf(`devices/${this.id}/up`);
    for (let k = 1; k <= n; k++) this.client.publish(topic, payload(k));
  }
}

/** A broker whose ingest stores an uplink only when the test says so. */
async function brokerWithHeldIngest(bounds: { maxUnacked: number; maxUnackedPerClient: number; maxUnackedBytes?: number }) {
  const held: Array<{ msg: RawMessage; store: () => void }> = [];
  const ingested: RawMessage[] = [];
  let autoStore = false;
  const allow = () => true;
  const broker = await startBroker('127.0.0.1', 0, {
    credentials: {
      onRevoked() {},
      check: async () => true,
      exists: async () => true,
      mayPublish: allow,
      maySubscribe: () => false,
      orgOf: () => null,
    } as never,
    clientIds: { claim: async () => true, forget() {} } as never,
    devices: {} as never,
    ingest: (msg) =>
      new Promise((resolve) => {
        const store = () => {
          ingested.push(msg);
          resolve('accepted');
        };
        if (autoStore) setImmediate(store);
        else held.push({ msg, store });
      }),
    refused: async () => {},
    log: pino({ level: 'silent' }),
    maxPacketBytes: 262_144,
    connectTimeoutMs: 10_000,
    maxPendingPerAddress: 1000,
    ...bounds,
  });
  return {
    broker,
    held,
    ingested,
    /** stores what is held and, from now on, every uplink as it comes */
    storeAll() {
      autoStore = true;
      for (const h of held.splice(0)) h.store();
    },
  };
}

let running: RunningBroker | undefined;
const devices: Device[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) d.client.destroy();
  await running?.close();
  running = undefined;
});

describe('backpressure: publishes read but not acknowledged are bounded', () => {
  it('20 devices with a backlog of 40 each: at most 50 publishes are read at a time (8 per device); all 800 are then stored and acknowledged in order', async () => {
    const b = await brokerWithHeldIngest({ maxUnacked: 50, maxUnackedPerClient: 8 });
    running = b.broker;
    for (let i = 0; i < 20; i++) devices.push(await Device.connect(b.broker.port, `flood-${i}`));
    for (const d of devices) d.publishAll(40);
    await waitFor(() => b.held.length === 50, 10_000, '50 publishes read');
    // every device has written its whole backlog; nothing more is read while nothing is stored
    await new Promise((r) => setTimeout(r, 500));
    expect(b.held.length).toBe(50);
    expect(b.broker.unacked().publishes).toBe(50);
    expect(b.broker.unacked().waitingConnections).toBeGreaterThan(0);
    const perDevice = new Map<string, number>();
    for (const h of b.held) perDevice.set(h.msg.clientId as string, (perDevice.get(h.msg.clientId as string) ?? 0) + 1);
    expect(Math.max(...perDevice.values())).toBeLessThanOrEqual(8);
    expect(devices.every((d) => d.acked.length === 0 && !d.closed)).toBe(true);

    // store ten at a time: the room freed goes to the connections waiting, the bound holds throughout
    while (b.ingested.length < 300) {
      for (const h of b.held.splice(0, 10)) h.store();
      // (aedes parses what a connection passed on once that connection's earlier batch is all answered)
      await waitFor(() => b.broker.unacked().publishes === 50 && b.held.length > 0, 10_000, 'the freed room taken');
      expect(b.held.length).toBeLessThanOrEqual(50);
    }
    // every device got its turn: none waited for another's whole backlog
    const served = new Set(b.ingested.map((m) => m.clientId));
    expect(served.size).toBe(20);

    b.storeAll();
    await waitFor(() => devices.every((d) => d.acked.length === 40), 20_000, 'all 800 acknowledged');
    expect(b.ingested).toHaveLength(800);
    for (const d of devices) {
      const mine = b.ingested.filter((m) => m.clientId === d.id).map((m) => JSON.parse(m.payload.toString()).k);
      expect(mine).toEqual(Array.from({ length: 40 }, (_, k) => k + 1));
      expect(d.acked).toEqual(mine);
      expect(d.closed).toBe(false);
    }
    expect(b.broker.unacked()).toEqual({ publishes: 0, bytes: 0, waitingConnections: 0 });
  });

  it('the byte bound holds too: 4 KiB publishes, 16 KiB in hand at most', async () => {
    const b = await brokerWithHeldIngest({ maxUnacked: 1000, maxUnackedPerClient: 100, maxUnackedBytes: 16 * 1024 });
    running = b.broker;
    const d = await Device.connect(b.broker.port, 'big-0');
    devices.push(d);
    d.publishAll(20, () => Buffer.alloc(4096, 0x20));
    await waitFor(() => b.held.length > 0, 10_000, 'first publishes read');
    await new Promise((r) => setTimeout(r, 300));
    expect(b.broker.unacked().bytes).toBeLessThanOrEqual(16 * 1024);
    expect(b.held.length).toBe(3);
    b.storeAll();
    await waitFor(() => d.acked.length === 20, 10_000, 'all 20 acknowledged');
  });

  it('a connection held back longer than 1.5 × its keepalive is not disconnected; it resumes and everything is acknowledged', async () => {
    const b = await brokerWithHeldIngest({ maxUnacked: 4, maxUnackedPerClient: 2 });
    running = b.broker;
    const d = await Device.connect(b.broker.port, 'ka-0', 1); // keepalive 1 s: the server closes after 1.5 s of silence
    devices.push(d);
    d.publishAll(10);
    await waitFor(() => b.held.length === 2, 10_000, 'two publishes read');
    await new Promise((r) => setTimeout(r, 3500));
    expect(d.closed).toBe(false);
    b.storeAll();
    await waitFor(() => d.acked.length === 10, 10_000, 'all 10 acknowledged');
    expect(d.closed).toBe(false);
  });

  it('a new connection is accepted and answered while every other one is held back', async () => {
    const b = await brokerWithHeldIngest({ maxUnacked: 5, maxUnackedPerClient: 5 });
    running = b.broker;
    for (let i = 0; i < 3; i++) devices.push(await Device.connect(b.broker.port, `busy-${i}`));
    for (const d of devices) d.publishAll(20);
    await waitFor(() => b.held.length === 5, 10_000, 'five publishes read');
    const late = await Device.connect(b.broker.port, 'late-0');
    devices.push(late);
    expect(late.connacked).toBe(true);
    late.publishAll(3);
    b.storeAll();
    await waitFor(() => devices.every((d) => d.acked.length === (d === late ? 3 : 20)), 20_000, 'all acknowledged');
  });
});
