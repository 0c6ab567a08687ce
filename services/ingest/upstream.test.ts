// The upstream subscription acknowledges an uplink only once it is stored, without serialising the
// subscription to one message per commit. Driven against a real aedes broker on a free port.
import net from 'node:net';
import { Aedes } from 'aedes';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawMessage } from './types.ts';
import { startUpstream, type Upstream } from './upstream.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('upstream subscription', () => {
  let broker: Aedes;
  let server: net.Server;
  let port: number;
  let up: Upstream;
  const acked: number[] = [];
  const pending: { msg: RawMessage; resolve: () => void }[] = [];

  beforeAll(async () => {
    broker = await Aedes.createBroker();
    // aedes reports each PUBACK it receives from a subscriber
    broker.on('ack', (packet) => {
      if (packet && 'payload' in packet) acked.push(Number(String(packet.payload)));
    });
    server = net.createServer((s) => broker.handle(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as net.AddressInfo).port;
    up = startUpstream(
      { url: `mqtt://127.0.0.1:${port}`, clientId: 'rw-upstream-test' },
      (msg) => new Promise<void>((resolve) => pending.push({ msg, resolve })),
      pino({ level: 'silent' }),
    );
    for (let i = 0; i < 50 && !up.ready(); i++) await sleep(50);
    await sleep(200); // subscriptions in place
  });
  afterAll(async () => {
    await up?.close();
    await new Promise<void>((r) => broker.close(() => r()));
    server.close();
  });

  it('hands several messages to ingestion at once, and sends each PUBACK only after its uplink is stored', async () => {
    for (let i = 1; i <= 5; i++) {
      broker.publish({ cmd: 'publish', topic: 'devices/x/up', payload: Buffer.from(String(i)), qos: 1, retain: false, dup: false }, () => {});
    }
    for (let i = 0; i < 40 && pending.length < 5; i++) await sleep(25);
    expect(pending.map((p) => String(p.msg.payload))).toEqual(['1', '2', '3', '4', '5']); // not one at a time
    await sleep(200);
    expect(acked).toEqual([]); // nothing stored yet, nothing acknowledged

    pending[2].resolve();
    pending[0].resolve();
    for (let i = 0; i < 40 && acked.length < 2; i++) await sleep(25);
    expect(acked.sort()).toEqual([1, 3]);

    for (const p of pending) p.resolve();
    for (let i = 0; i < 40 && acked.length < 5; i++) await sleep(25);
    expect(acked.sort()).toEqual([1, 2, 3, 4, 5]);
  });
});
