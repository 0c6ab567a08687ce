// One client address cannot hold the HTTP port's sockets: past HTTP_MAX_CONNECTIONS_PER_ADDRESS its new
// connections are closed at once while other addresses are served, and a connection that never sends a
// request head is closed after HTTP_HEADERS_TIMEOUT. Raw sockets on the loopback, bounded counts.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

interface Raw {
  sock: net.Socket;
  closed: boolean;
  data: string;
}

function connect(port: number, localAddress = '127.0.0.1'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const r: Raw = { sock: net.connect({ host: '127.0.0.1', port, localAddress }), closed: false, data: '' };
    r.sock.on('connect', () => resolve(r));
    r.sock.on('data', (d) => {
      r.data += d.toString('latin1');
    });
    r.sock.on('error', () => {});
    r.sock.on('close', () => {
      r.closed = true;
    });
    r.sock.once('error', reject);
  });
}

describe('HTTP connections per client address', () => {
  let s: TestSystem;
  let port: number;
  const socks: Raw[] = [];
  beforeAll(async () => {
    s = await startSystem({ env: { HTTP_MAX_CONNECTIONS_PER_ADDRESS: '20', HTTP_HEADERS_TIMEOUT: '2s' } });
    port = Number(new URL(s.httpUrl).port);
  });
  afterAll(async () => {
    for (const r of socks) r.sock.destroy();
    await s?.close();
  });

  it('30 silent sockets from one address: 20 are served, 10 are closed at once; other addresses still get answers', async () => {
    for (let i = 0; i < 30; i++) socks.push(await connect(port));
    await waitFor(() => socks.filter((r) => r.closed).length >= 10, 5000, 'ten sockets closed');
    const open = socks.filter((r) => !r.closed);
    expect(open.length).toBe(20);
    // another address is not locked out
    const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    expect(res, 'the same address with its 20 sockets open is refused').toBeUndefined();
    const other = await connect(port, '127.0.0.2');
    socks.push(other);
    other.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitFor(() => other.closed, 5000, 'the answer to another address');
    expect(other.data).toMatch(/^HTTP\/1\.1 200/);
    // the 20 held ones are real connections: each is answered
    for (const r of open) r.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitFor(() => open.every((r) => r.closed), 5000, 'twenty answers');
    expect(open.map((r) => r.data.slice(0, 12))).toEqual(open.map(() => 'HTTP/1.1 200'));
    // their slots are free again, and the refusals are counted for the operator
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200, 5000, 'a fetch served again');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(Number(/^regenwacht_http_connections_refused_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(10);
  });

  it('a socket that sends nothing, or half a request head, is answered 408 and closed after HTTP_HEADERS_TIMEOUT', async () => {
    const silent = await connect(port);
    const half = await connect(port);
    socks.push(silent, half);
    half.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    await waitFor(() => silent.closed && half.closed, 10_000, 'both closed');
    expect(half.data).toMatch(/^HTTP\/1\.1 408/);
  });
});
