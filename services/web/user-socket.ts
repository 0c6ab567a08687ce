// While a server holds the embedded store (PGlite, one process only), `npm run user` may not open DATA_DIR
// itself: the server listens on DATA_DIR/user-cli.sock (mode 0600, so only the account that runs it can
// connect) and runs the CLI's command for it. One JSON line in, one JSON line out. [README.md Web console]
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { runUserCommand, type UserCommand, type UserCommandResult } from './user-commands.ts';
import type { UserStore } from './users.ts';

export const userSocketPath = (dataDir: string) => path.join(dataDir, 'user-cli.sock');

/** Starts the socket; the returned function closes it and removes the file. Undefined where it cannot be had. */
export function startUserSocket(dataDir: string, users: UserStore, log: Logger): (() => Promise<void>) | undefined {
  const file = userSocketPath(dataDir);
  // Unix socket paths are limited to ~107 bytes; Windows has none of this
  if (process.platform === 'win32' || Buffer.byteLength(file) > 100) return undefined;
  fs.rmSync(file, { force: true });
  const server = net.createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    sock.on('data', (d) => {
      buf += d;
      if (buf.length > 64 * 1024) return sock.destroy();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let cmd: UserCommand;
      try {
        cmd = JSON.parse(buf.slice(0, nl));
      } catch {
        return sock.end(`${JSON.stringify({ code: 2, out: [], err: ['user: bad request'] })}\n`);
      }
      runUserCommand(users, cmd).then(
        (r) => sock.end(`${JSON.stringify(r)}\n`),
        (e) => {
          log.error({ err: (e as Error).message }, 'user command over the CLI socket failed');
          sock.end(`${JSON.stringify({ code: 1, out: [], err: ['user: the server could not run the command (see its log)'] } satisfies UserCommandResult)}\n`);
        },
      );
    });
  });
  server.on('error', (e) => log.warn({ err: e.message }, 'user CLI socket unavailable: `npm run user` needs the server stopped'));
  const old = process.umask(0o177);
  try {
    server.listen(file, () => fs.chmodSync(file, 0o600));
  } finally {
    process.umask(old);
  }
  return () =>
    new Promise<void>((res) => {
      server.close(() => res());
      fs.rmSync(file, { force: true });
    });
}

/** The CLI's side: the server's answer, or undefined when no server listens on DATA_DIR. */
export function askServer(dataDir: string, cmd: UserCommand): Promise<UserCommandResult | undefined> {
  const file = userSocketPath(dataDir);
  if (!fs.existsSync(file)) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const sock = net.connect(file);
    let buf = '';
    let connected = false;
    sock.setEncoding('utf8');
    sock.on('connect', () => {
      connected = true;
      sock.write(`${JSON.stringify(cmd)}\n`);
    });
    sock.on('data', (d) => {
      buf += d;
    });
    sock.on('end', () => {
      try {
        resolve(JSON.parse(buf.trim()));
      } catch {
        reject(new Error('the server gave no answer over its user CLI socket'));
      }
    });
    // a socket file left by a server that is gone: open the store directly
    sock.on('error', (e) => (connected ? reject(e) : resolve(undefined)));
  });
}
