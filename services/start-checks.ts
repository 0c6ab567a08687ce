// What can make a start fail for good is checked before anything else starts, so the reason is the first
// and last thing the user reads: the ports (before the database is opened) and a database that refuses us
// (wrong password, role or database name: no point in waiting for it).
// The codes are those of the process's error catalogue (services/errors.ts, docs/errors.md).
import net from 'node:net';
import { StartError } from './errors.ts';

export { StartError };

export interface HeldPort {
  port: number;
  /** lets go of the port just before the real server listens on it; idempotent */
  release(): Promise<void>;
}

/**
 * Binds `port` on `host` and holds it until release(), so a taken port is reported before anything else
 * starts and nobody takes it meanwhile. With 0 a free port is chosen now, so links can name it early.
 * Connections during the start are closed at once, as if nothing listened yet.
 */
export function holdPort(host: string, port: number, what: 'HTTP' | 'MQTT' | 'MQTTS'): Promise<HeldPort> {
  const setting = `${what}_PORT`;
  return new Promise((resolve, reject) => {
    const s = net.createServer((c) => c.destroy());
    s.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') {
        const alt = what === 'HTTP' ? '' : ` or ${setting}=off`;
        reject(
          new StartError('PORT_IN_USE', `${what} port ${port} on ${host} is already in use; choose another with ${setting}=<port> (0 = any free port)${alt}`),
        );
      } else if (e.code === 'EACCES') {
        reject(
          new StartError(
            'PORT_FORBIDDEN',
            `${what} port ${port} on ${host} needs privileges this process does not have; choose a port above 1023 with ${setting}=<port>`,
          ),
        );
      } else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') {
        reject(
          new StartError(
            'BIND_HOST_UNAVAILABLE',
            `BIND_HOST ${host} is not an address of this machine; use 127.0.0.1 (this machine only) or 0.0.0.0 (all interfaces)`,
          ),
        );
      } else reject(e);
    });
    s.listen({ host, port, exclusive: true }, () => {
      let closed: Promise<void> | undefined;
      const release = () => (closed ??= new Promise<void>((r) => s.close(() => r())));
      resolve({ port: (s.address() as net.AddressInfo).port, release });
    });
  });
}

/** The host part of a URL a user can open for a server bound to `bindHost`. */
export function urlHost(bindHost: string): string {
  if (bindHost === '0.0.0.0' || bindHost === '::') return 'localhost';
  return net.isIPv6(bindHost) ? `[${bindHost}]` : bindHost;
}

// PostgreSQL's answers that waiting will not change: authentication and the database or role not existing.
const REFUSALS: Record<string, string> = {
  '28P01': 'the password is wrong',
  '28000': 'the role may not log in from here or does not exist',
  '3D000': 'the database does not exist',
  '42501': 'the role lacks the privilege to connect',
};

/** A StartError for an answer from PostgreSQL that will not change by waiting; undefined otherwise. */
export function databaseRefusal(e: unknown, where: string): StartError | undefined {
  const code = (e as { code?: string }).code;
  if (!code || !(code in REFUSALS)) return undefined;
  // PostgreSQL's own text names the user or database, never the password
  const detail = (e as Error).message;
  return new StartError(
    'DATABASE_REFUSED',
    `the database at ${where} refused the connection: ${REFUSALS[code]} (${detail}; SQLSTATE ${code}); check DATABASE_URL`,
  );
}
