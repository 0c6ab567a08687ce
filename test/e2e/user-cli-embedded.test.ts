// `npm run user -- add …` while the server runs on the embedded store, with the same DATA_DIR [README.md Web
// console]: the server holds the store, so the CLI hands the command to it over DATA_DIR/user-cli.sock.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type TestSystem } from '../helpers/system.ts';

const run = promisify(execFile);
let s: TestSystem;

beforeAll(async () => {
  s = await startSystem({ store: 'pglite', env: { MAP_TILES_URL: 'none' } });
});
afterAll(async () => {
  await s?.close();
});

async function logIn(login: string, password: string): Promise<number> {
  const form = await fetch(`${s.httpUrl}/login`);
  const pre = /rw_login=([^;]*)/.exec(form.headers.getSetCookie().join('\n'))?.[1] ?? '';
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const r = await fetch(`${s.httpUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: `rw_login=${pre}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, username: login, password, next: '/' }).toString(),
  });
  return r.status;
}

describe('npm run user beside a running server on the embedded store', () => {
  it('adds a person the running server knows at once; the socket is for the owner only', async () => {
    const sock = path.join(s.dataDir, 'user-cli.sock');
    expect(fs.statSync(sock).mode & 0o777).toBe(0o600);
    const env = { ...process.env, DATA_DIR: s.dataDir, DATABASE_URL: '', REGENWACHT_PASSWORD: 'ein-gutes-passwort' };
    const out = await run(process.execPath, ['--import', 'tsx', 'services/web/user-cli.ts', 'add', '--name', 'paula', '--role', 'operator'], { env });
    expect(out.stdout).toContain("user 'paula' created: role operator, whole installation");
    expect(await logIn('paula', 'ein-gutes-passwort')).toBe(303);
    const list = await run(process.execPath, ['--import', 'tsx', 'services/web/user-cli.ts', 'list'], { env });
    expect(list.stdout).toMatch(/^paula\toperator/m);
    const again = await run(process.execPath, ['--import', 'tsx', 'services/web/user-cli.ts', 'add', '--name', 'paula', '--role', 'operator'], { env }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
  });
});
