// People's accounts for the console over plain HTTP: session cookie flags, CSRF on every form, lockout
// after failed logins, per-address rate limit, logout, password change, the `npm run user` CLI and the
// users API for the first admin.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../helpers/env.ts';
import { startSystem, type TestSystem } from '../helpers/system.ts';

// The CLI opens the database itself: on PostgreSQL beside the running server; the embedded store is
// held by the server's process while it runs, so without TEST_DATABASE_URL those tests are skipped.
const itCli = it.skipIf(!TEST_DATABASE_URL);

const run = promisify(execFile);
let s: TestSystem;
const PW = 'ein-gutes-passwort';

interface Res {
  status: number;
  location: string | null;
  cookies: string[];
  text: string;
}

async function req(method: string, path: string, o: { cookie?: string; form?: Record<string, string> } = {}): Promise<Res> {
  const r = await fetch(s.httpUrl + path, {
    method,
    redirect: 'manual',
    headers: { ...(o.cookie ? { cookie: o.cookie } : {}), ...(o.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body: o.form ? new URLSearchParams(o.form).toString() : undefined,
  });
  return { status: r.status, location: r.headers.get('location'), cookies: r.headers.getSetCookie(), text: await r.text() };
}

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const cookieValue = (cookies: string[], name: string) => cookies.map((c) => new RegExp(`^${name}=([^;]*)`).exec(c)?.[1]).find((v) => v !== undefined);

async function tryLogin(login: string, password: string): Promise<Res & { session?: string }> {
  const form = await req('GET', '/login');
  // the form's fields are named `username` and `password` [README.md Web console]
  expect(form.text).toMatch(/<input[^>]* name="username"/);
  expect(form.text).toMatch(/<input[^>]* name="password"/);
  const pre = cookieValue(form.cookies, 'rw_login');
  const r = await req('POST', '/login', { cookie: `rw_login=${pre}`, form: { _csrf: csrfOf(form.text), username: login, password, next: '/' } });
  return { ...r, session: cookieValue(r.cookies, 'rw_session') };
}

async function session(login: string, password = PW): Promise<{ cookie: string; csrf: string }> {
  const r = await tryLogin(login, password);
  expect(r.status, r.text.slice(0, 200)).toBe(303);
  const cookie = `rw_session=${r.session}`;
  const page = await req('GET', '/account/password', { cookie });
  return { cookie, csrf: csrfOf(page.text) };
}

beforeAll(async () => {
  s = await startSystem({ store: 'pg', env: { MAP_TILES_URL: 'none', PUBLIC_URL: 'https://lage.example.org' } });
  for (const login of ['anna', 'bert', 'carla', 'dora']) await s.ok('POST', '/api/v1/users', { login, role: 'operator', password: PW });
});
afterAll(async () => {
  await s?.close();
});

describe('logging in', () => {
  it('sends a guest to the login page and back to where they wanted to go', async () => {
    const r = await req('GET', '/alarms/7?from=board');
    expect(r.status).toBe(303);
    expect(r.location).toBe('/login?next=%2Falarms%2F7%3Ffrom%3Dboard');
    const form = await req('GET', r.location!);
    expect(form.text).toContain('value="/alarms/7?from=board"');
  });

  it('sets an HttpOnly, SameSite=Strict session cookie, Secure behind HTTPS', async () => {
    const r = await tryLogin('anna', PW);
    expect(r.status).toBe(303);
    const c = r.cookies.find((x) => x.startsWith('rw_session='))!;
    expect(c).toMatch(/HttpOnly/);
    expect(c).toMatch(/SameSite=Strict/);
    expect(c).toMatch(/Secure/);
    const page = await req('GET', '/', { cookie: `rw_session=${r.session}` });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Lagebild');
  });

  it('refuses a login form without its token', async () => {
    const r = await req('POST', '/login', { form: { login: 'anna', password: PW } });
    expect(r.status).toBe(403);
    expect(cookieValue(r.cookies, 'rw_session')).toBeUndefined();
  });

  itCli('locks an account after 5 wrong passwords, even for the right one, until unlocked with the CLI', async () => {
    for (let k = 0; k < 4; k++) expect((await tryLogin('bert', 'falsch-falsch')).status).toBe(401);
    const fifth = await tryLogin('bert', 'falsch-falsch');
    expect(fifth.status).toBe(423);
    expect(fifth.text).toContain('gesperrt');
    const right = await tryLogin('bert', PW);
    expect(right.status).toBe(423);
    expect(right.session).toBeUndefined();
    const out = await run(process.execPath, ['--import', 'tsx', 'services/web/user-cli.ts', 'unlock', 'bert'], {
      env: { ...process.env, DATABASE_URL: s.config.databaseUrl },
    });
    expect(out.stdout).toContain("'bert' unlocked");
    expect((await tryLogin('bert', PW)).status).toBe(303);
  });
});

describe('forms need the session’s CSRF token', () => {
  it('refuses logout, acknowledge and password change without it, and the session lives on', async () => {
    const { cookie, csrf } = await session('carla');
    for (const [path, form] of [
      ['/logout', {}],
      ['/alarms/1/ack', {}],
      ['/account/password', { current: PW, next: 'neues-passwort-1', repeat: 'neues-passwort-1' }],
      ['/logout', { _csrf: `${csrf.slice(0, -2)}xx` }],
    ] as const) {
      const r = await req('POST', path, { cookie, form });
      expect(r.status, path).toBe(403);
    }
    expect((await req('GET', '/', { cookie })).status).toBe(200);
    expect((await tryLogin('carla', PW)).status).toBe(303); // password unchanged
  });
});

describe('logout and password change', () => {
  it('logout ends the session', async () => {
    const { cookie, csrf } = await session('anna');
    const r = await req('POST', '/logout', { cookie, form: { _csrf: csrf } });
    expect(r.status).toBe(303);
    expect(r.location).toBe('/login');
    expect((await req('GET', '/', { cookie })).status).toBe(303);
  });

  it('a password change needs the current password, ends the other sessions and takes effect', async () => {
    const a = await session('dora');
    const b = await session('dora');
    const wrong = await req('POST', '/account/password', {
      cookie: a.cookie,
      form: { _csrf: a.csrf, current: 'nicht-meins-1', next: 'neues-passwort-1', repeat: 'neues-passwort-1' },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('aktuelle Passwort ist falsch');
    const short = await req('POST', '/account/password', { cookie: a.cookie, form: { _csrf: a.csrf, current: PW, next: 'kurz', repeat: 'kurz' } });
    expect(short.status).toBe(400);
    const ok = await req('POST', '/account/password', {
      cookie: a.cookie,
      form: { _csrf: a.csrf, current: PW, next: 'neues-passwort-1', repeat: 'neues-passwort-1' },
    });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('Passwort wurde geändert');
    expect((await req('GET', '/', { cookie: a.cookie })).status).toBe(200);
    expect((await req('GET', '/', { cookie: b.cookie })).status).toBe(303);
    expect((await tryLogin('dora', PW)).status).toBe(401);
    expect((await tryLogin('dora', 'neues-passwort-1')).status).toBe(303);
  });
});

describe('creating people', () => {
  itCli('`npm run user -- add` makes the first admin, who can log in', async () => {
    const out = await run(process.execPath, ['--import', 'tsx', 'services/web/user-cli.ts', 'add', 'erste', '--role', 'admin', '--name', 'Erste Admin'], {
      env: { ...process.env, DATABASE_URL: s.config.databaseUrl, RW_PASSWORD: 'start-passwort-1' },
    });
    expect(out.stdout).toContain("user 'erste' created: role admin, whole installation");
    const { cookie } = await session('erste', 'start-passwort-1');
    const page = await req('GET', '/admin/users', { cookie });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Erste Admin');
    // `/admin` opens the first administration page this person may use [README.md Web console]
    const admin = await req('GET', '/admin', { cookie });
    expect(admin.status).toBe(303);
    expect(admin.location).toBe('/admin/users');
  });

  itCli('`npm run user -- add --name … --role …` as README.md shows it, the password from REGENWACHT_PASSWORD', async () => {
    const out = await run(process.execPath, ['--import', 'tsx', 'services/web/user-cli.ts', 'add', '--name', 'kai', '--role', 'operator'], {
      env: { ...process.env, DATABASE_URL: s.config.databaseUrl, REGENWACHT_PASSWORD: 'start-passwort-3' },
    });
    expect(out.stdout).toContain("user 'kai' created: role operator, whole installation");
    const { cookie } = await session('kai', 'start-passwort-3');
    const admin = await req('GET', '/admin', { cookie });
    expect(admin.status).toBe(303);
    expect(admin.location).toBe('/audit');
  });

  it('the users API: the admin token creates anyone; a municipality admin only its own people; nobody else', async () => {
    const gi = (await s.ok('POST', '/api/v1/tokens', { name: 'gi-admin', role: 'admin', org: 'giessen' })).token;
    const op = (await s.ok('POST', '/api/v1/tokens', { name: 'op', role: 'operator' })).token;
    const own = await s.api('POST', '/api/v1/users', { login: 'gi-user', role: 'responder', password: PW }, gi);
    expect(own.status).toBe(201);
    expect(own.body.org).toBe('giessen');
    expect(own.body).not.toHaveProperty('password_hash');
    expect((await s.api('POST', '/api/v1/users', { login: 'x1', role: 'responder', org: 'wetzlar', password: PW }, gi)).status).toBe(403);
    expect((await s.api('POST', '/api/v1/users', { login: 'x2', role: 'responder', password: PW }, op)).status).toBe(403);
    const weak = await s.api('POST', '/api/v1/users', { login: 'x3', role: 'viewer', password: 'kurz' });
    expect(weak.status).toBe(400);
    expect(weak.body.error.message).toMatch(/at least 10/);
    expect((await s.api('GET', '/api/v1/users', undefined, gi)).body.items.map((u: { login: string }) => u.login)).toEqual(['gi-user']);
  });
});

describe('roles and language', () => {
  it('a viewer sees the board but may not acknowledge', async () => {
    await s.ok('POST', '/api/v1/users', { login: 'vera', role: 'viewer', password: PW });
    await s.ok('POST', '/api/v1/devices', { id: 'p1', name: 'Pegel', model: 'generic' });
    await s.ok('POST', '/api/v1/rules', {
      name: 'hoch',
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: ['p1'] },
      levels: [{ severity: 'severe', threshold: 100 }],
    });
    const c = await s.mqttClient();
    await new Promise<void>((res, rej) => c.publish('devices/p1/up', JSON.stringify({ readings: { level_cm: 150 } }), { qos: 1 }, (e) => (e ? rej(e) : res())));
    c.end(true);
    let id = '';
    for (let k = 0; k < 50 && !id; k++) {
      id = (await s.ok('GET', '/api/v1/alarms')).items[0]?.id ?? '';
      if (!id) await new Promise((res) => setTimeout(res, 100));
    }
    const { cookie, csrf } = await session('vera');
    const board = await req('GET', '/board', { cookie });
    expect(board.text).toContain(`data-alarm="${id}"`);
    expect(board.text).not.toContain('Quittieren');
    const r = await req('POST', `/alarms/${id}/ack`, { cookie, form: { _csrf: csrf } });
    expect(r.status).toBe(403);
    expect((await s.ok('GET', `/api/v1/alarms/${id}`)).state).toBe('firing');
  });

  it('an admin creates a person with the users form, who can then log in', async () => {
    await s.ok('POST', '/api/v1/users', { login: 'zweite', role: 'admin', password: 'start-passwort-2' });
    const { cookie, csrf } = await session('zweite', 'start-passwort-2');
    const r = await req('POST', '/admin/users', {
      cookie,
      form: { _csrf: csrf, login: 'neu', name: 'Nina Neu', role: 'responder', org: 'giessen', password: 'ein-startwort-9' },
    });
    expect(r.status).toBe(201);
    expect(r.text).toContain('Nina Neu');
    expect((await tryLogin('neu', 'ein-startwort-9')).status).toBe(303);
    const missing = await req('POST', '/admin/users', { cookie, form: { login: 'x9', role: 'viewer', password: 'ein-startwort-9' } });
    expect(missing.status).toBe(403); // no CSRF token
  });

  it('speaks the browser’s language, German by default', async () => {
    const en = await fetch(`${s.httpUrl}/login`, { headers: { 'accept-language': 'en-US,en;q=0.8,de;q=0.5' } });
    expect(await en.text()).toContain('<html lang="en"');
    const de = await fetch(`${s.httpUrl}/login`, { headers: { 'accept-language': 'fr-FR' } });
    expect(await de.text()).toContain('<html lang="de"');
  });
});

describe('rate limit', () => {
  it('slows down guessing from one address across accounts', async () => {
    // 30 attempts a minute from one address (the other tests here used some already)
    const statuses: number[] = [];
    for (let k = 0; k < 40 && !statuses.includes(429); k++) statuses.push((await tryLogin(`nobody${k}`, 'falsch-falsch')).status);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((x) => x === 401)).toBe(true);
    // now even the right password waits
    const r = await tryLogin('carla', PW);
    expect(r.status).toBe(429);
    expect(r.session).toBeUndefined();
  });
});
