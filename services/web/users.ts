// People who log in to the console: argon2id password hashes, a role and a municipality as for API tokens,
// lockout after repeated failures; sessions stored hashed with their own CSRF token.
import crypto from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { type ApiRole, ROLES } from '../auth/roles.ts';
import { hashSecret } from '../auth/secrets.ts';
import type { Principal } from '../auth/token-store.ts';
import type { Db } from '../db/db.ts';

export const LOGIN_RE = /^[A-Za-z0-9._@-]{2,64}$/;
export const MIN_PASSWORD = 10;
/** failed logins in a row before the account is locked, and for how long */
export const LOCKOUT = { failures: 5, ms: 15 * 60_000 };
/** a session ends after this long without a request */
export const SESSION_IDLE_MS = 12 * 3_600_000;

export interface User {
  id: number;
  login: string;
  name: string;
  role: ApiRole;
  /** null: the whole installation */
  org: string | null;
  lockedUntil: string | null;
  createdAt: string;
}

interface Row {
  id: string | number;
  login: string;
  name: string;
  password_hash: string;
  role: ApiRole;
  org: string | null;
  failed_logins: number;
  locked_until: Date | null;
  created_at: Date;
  disabled_at: Date | null;
}

const toUser = (r: Row): User => ({
  id: Number(r.id),
  login: r.login,
  name: r.name,
  role: r.role,
  org: r.org ?? null,
  lockedUntil: r.locked_until ? new Date(r.locked_until).toISOString() : null,
  createdAt: new Date(r.created_at).toISOString(),
});

/** The API's principal for a user: pages check permissions and municipalities exactly as the JSON API does. */
export const principalOf = (u: User): Principal => ({ tokenId: u.id, name: u.name, role: u.role, org: u.org });

export class UserError extends Error {}

// argon2id, OWASP's minimum parameters (19 MiB, t=2, p=1): ~30 ms a login on this kind of machine.
const ARGON = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };
let dummyHash: Promise<string> | undefined;

export function checkPassword(pw: string, login?: string): void {
  if (pw.length < MIN_PASSWORD) throw new UserError(`password must have at least ${MIN_PASSWORD} characters`);
  if (pw.length > 1024) throw new UserError('password too long');
  if (login && pw.toLowerCase().includes(login.toLowerCase())) throw new UserError('password must not contain the login');
}

export type LoginResult = { ok: true; user: User } | { ok: false; locked: boolean };

export class UserStore {
  constructor(
    private db: Db,
    private now: () => number = Date.now,
  ) {}

  async create(u: { login: string; name?: string; role: ApiRole; org: string | null; password: string }, by: string): Promise<User> {
    if (!LOGIN_RE.test(u.login)) throw new UserError('login: 2–64 letters, digits and . _ @ - only');
    if (!(ROLES as readonly string[]).includes(u.role)) throw new UserError(`role must be one of ${ROLES.join(', ')}`);
    checkPassword(u.password, u.login);
    const r = await this.db
      .query<Row>('insert into users(login, name, password_hash, role, org, created_by) values ($1,$2,$3,$4,$5,$6) returning *', [
        u.login,
        u.name?.trim() || u.login,
        await hash(u.password, ARGON),
        u.role,
        u.org,
        by,
      ])
      .catch((e: { code?: string }) => {
        if (e.code === '23505') throw new UserError(`user '${u.login}' already exists`);
        throw e;
      });
    return toUser(r.rows[0]);
  }

  async list(org: string | null): Promise<User[]> {
    const r = await this.db.query<Row>('select * from users where disabled_at is null and ($1::text is null or org = $1) order by login', [org]);
    return r.rows.map(toUser);
  }

  async byLogin(login: string): Promise<User | undefined> {
    const r = await this.db.query<Row>('select * from users where login = $1 and disabled_at is null', [login]);
    return r.rows[0] ? toUser(r.rows[0]) : undefined;
  }

  /**
   * Checks a login. A locked account is refused without looking at the password; the failure that reaches
   * the limit locks it. Unknown logins cost the same hashing time as known ones.
   */
  async login(login: string, password: string): Promise<LoginResult> {
    const r = await this.db.query<Row>('select * from users where login = $1 and disabled_at is null', [login]);
    const row = r.rows[0];
    if (!row) {
      dummyHash ??= hash('not a password of anyone', ARGON);
      await verify(await dummyHash, password).catch(() => false);
      return { ok: false, locked: false };
    }
    const now = this.now();
    if (row.locked_until && new Date(row.locked_until).getTime() > now) return { ok: false, locked: true };
    const good = await verify(row.password_hash, password).catch(() => false);
    if (good) {
      if (row.failed_logins || row.locked_until) await this.db.query('update users set failed_logins = 0, locked_until = null where id = $1', [row.id]);
      return { ok: true, user: toUser({ ...row, failed_logins: 0, locked_until: null }) };
    }
    const u = await this.db.query<{ failed_logins: number }>(
      `update users set failed_logins = case when failed_logins + 1 >= $2 then 0 else failed_logins + 1 end,
         locked_until = case when failed_logins + 1 >= $2 then $3::timestamptz else locked_until end
       where id = $1 returning failed_logins`,
      [row.id, LOCKOUT.failures, new Date(now + LOCKOUT.ms)],
    );
    return { ok: false, locked: u.rows[0]?.failed_logins === 0 };
  }

  async changePassword(userId: number, current: string, next: string): Promise<'ok' | 'wrong'> {
    const r = await this.db.query<Row>('select * from users where id = $1', [userId]);
    const row = r.rows[0];
    if (!row || !(await verify(row.password_hash, current).catch(() => false))) return 'wrong';
    checkPassword(next, row.login);
    await this.db.query('update users set password_hash = $2, password_changed_at = now() where id = $1', [userId, await hash(next, ARGON)]);
    return 'ok';
  }

  /** An admin sets a new password (CLI, or a forgotten one); this also unlocks the account. */
  async setPassword(login: string, password: string): Promise<boolean> {
    checkPassword(password, login);
    const r = await this.db.query('update users set password_hash = $2, password_changed_at = now(), failed_logins = 0, locked_until = null where login = $1', [
      login,
      await hash(password, ARGON),
    ]);
    if (r.rowCount) await this.db.query('delete from web_sessions where user_id = (select id from users where login = $1)', [login]);
    return r.rowCount > 0;
  }

  async unlock(login: string): Promise<boolean> {
    const r = await this.db.query('update users set failed_logins = 0, locked_until = null where login = $1', [login]);
    return r.rowCount > 0;
  }

  async remove(login: string): Promise<boolean> {
    const r = await this.db.query('delete from users where login = $1', [login]);
    return r.rowCount > 0;
  }
}

export interface Session {
  user: User;
  csrf: string;
  idHash: string;
}

/** Server-side sessions: the cookie holds a random id, the database only its hash. */
export class SessionStore {
  constructor(
    private db: Db,
    private now: () => number = Date.now,
  ) {}

  async create(userId: number): Promise<{ id: string; csrf: string }> {
    const id = crypto.randomBytes(32).toString('base64url');
    const csrf = crypto.randomBytes(24).toString('base64url');
    const now = this.now();
    await this.db.query('delete from web_sessions where expires_at < $1', [new Date(now)]);
    await this.db.query('insert into web_sessions(id_hash, user_id, csrf, created_at, seen_at, expires_at) values ($1,$2,$3,$4,$4,$5)', [
      hashSecret(id),
      userId,
      csrf,
      new Date(now),
      new Date(now + SESSION_IDLE_MS),
    ]);
    return { id, csrf };
  }

  async get(id: string | undefined): Promise<Session | undefined> {
    if (!id || id.length > 100) return undefined;
    const h = hashSecret(id);
    const now = this.now();
    const r = await this.db.query<Row & { csrf: string; seen_at: Date }>(
      `select u.*, s.csrf, s.seen_at from web_sessions s join users u on u.id = s.user_id
       where s.id_hash = $1 and s.expires_at > $2 and u.disabled_at is null`,
      [h, new Date(now)],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    // sliding expiry, written at most once a minute
    if (now - new Date(row.seen_at).getTime() > 60_000) {
      await this.db.query('update web_sessions set seen_at = $2, expires_at = $3 where id_hash = $1', [h, new Date(now), new Date(now + SESSION_IDLE_MS)]);
    }
    return { user: toUser(row), csrf: row.csrf, idHash: h };
  }

  async destroy(id: string | undefined): Promise<void> {
    if (id) await this.db.query('delete from web_sessions where id_hash = $1', [hashSecret(id)]);
  }

  /** After a password change: every other session of the user ends. */
  async destroyOthers(userId: number, keepHash: string): Promise<void> {
    await this.db.query('delete from web_sessions where user_id = $1 and id_hash <> $2', [userId, keepHash]);
  }
}

/** Constant-time comparison of two CSRF tokens. */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
