// At most N open HTTP connections per client address: one address opening thousands of sockets (half-open or
// idle) cannot use up the process's file descriptors and lock everyone else out. [docs/security.md]
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

/** Counts the open connections per remote address; one past `max` is closed at once. `max` 0 = no cap. */
export function capConnectionsPerAddress(server: Server, max: number, log: Logger, onRefused: () => void = () => {}): void {
  if (max <= 0) return;
  const open = new Map<string, number>();
  const warned = new Map<string, number>();
  // before the HTTP parser is set up for it: a refused socket costs no more than its accept
  server.prependListener('connection', (sock: Socket) => {
    const addr = sock.remoteAddress ?? '?';
    const n = open.get(addr) ?? 0;
    if (n >= max) {
      sock.destroy();
      onRefused();
      const now = Date.now();
      if ((warned.get(addr) ?? 0) < now - 60_000) {
        warned.set(addr, now);
        if (warned.size > 1000) warned.clear();
        log.warn({ address: addr, max }, 'HTTP connection refused: this address already holds HTTP_MAX_CONNECTIONS_PER_ADDRESS connections');
      }
      return;
    }
    open.set(addr, n + 1);
    sock.once('close', () => {
      const left = (open.get(addr) ?? 1) - 1;
      if (left > 0) open.set(addr, left);
      else open.delete(addr);
    });
  });
}
