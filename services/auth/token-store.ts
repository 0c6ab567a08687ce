import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/db.ts';
import type { ApiRole } from './roles.ts';
import { hashSecret, newToken } from './secrets.ts';

export interface Principal {
  tokenId: number;
  name: string;
  role: ApiRole;
  /** the municipality this token is confined to; null: the whole installation */
  org: string | null;
}

/** A token as listed: never its secret or hash. [docs/api.md GET /api/v1/tokens] */
export interface TokenInfo {
  id: number;
  name: string;
  role: ApiRole;
  org: string | null;
  createdAt: string;
  createdBy: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
}

interface Row {
  id: number;
  name: string;
  role: ApiRole;
  org: string | null;
  token_hash: string;
  created_at: Date;
  created_by: string | null;
  last_used_at: Date | null;
  expires_at: Date | null;
}

interface Cached {
  p: Principal;
  expiresAt: number | null;
}

/** How often a miss may reload the token table (another process may have created a token meanwhile). */
const MISS_RELOAD_MS = 2_000;
/** How stale the whole cache may get (a token revoked by another process stops working after this). */
const MAX_AGE_MS = 10_000;
/** last_used_at is written at most this often per token, after the request, never in its way. */
const TOUCH_EVERY_MS = 60_000;

/**
 * API tokens. Every valid token's hash is held in memory (there are few), so verifying one is a map
 * lookup: a flood of made-up tokens costs no database query each — a miss reloads the table at most
 * once per 2 s, shared by all requests waiting on it.
 */
export class TokenStore {
  private byHash = new Map<string, Cached>();
  private loadedAt = 0;
  private loading?: Promise<void>;
  private touched = new Map<number, number>();

  constructor(
    private db: Db,
    private now: () => number = Date.now,
  ) {}

  private reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const r = await this.db.query<Pick<Row, 'id' | 'name' | 'role' | 'org' | 'token_hash' | 'expires_at'>>(
          'select id, name, role, org, token_hash, expires_at from api_tokens where revoked_at is null',
        );
        this.byHash = new Map(
          r.rows.map((x) => [
            x.token_hash,
            { p: { tokenId: Number(x.id), name: x.name, role: x.role, org: x.org ?? null }, expiresAt: x.expires_at ? new Date(x.expires_at).getTime() : null },
          ]),
        );
        this.loadedAt = this.now();
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  async verify(token: string): Promise<Principal | null> {
    const h = hashSecret(token);
    const age = this.now() - this.loadedAt;
    if (age > MAX_AGE_MS || (!this.byHash.has(h) && age > MISS_RELOAD_MS)) await this.reload();
    const c = this.byHash.get(h);
    if (!c || (c.expiresAt !== null && c.expiresAt <= this.now())) return null;
    this.touch(c.p.tokenId);
    return c.p;
  }

  private touch(id: number) {
    const now = this.now();
    if ((this.touched.get(id) ?? 0) > now - TOUCH_EVERY_MS) return;
    this.touched.set(id, now);
    this.db.query('update api_tokens set last_used_at = $2 where id = $1', [id, new Date(now)]).catch(() => this.touched.delete(id));
  }

  /** `org` null: the token acts for the whole installation. */
  async create(
    name: string,
    role: ApiRole,
    createdBy: string,
    org: string | null = null,
    expiresAt: Date | null = null,
  ): Promise<{ id: number; token: string }> {
    const token = newToken();
    const r = await this.db.query<{ id: number }>(
      'insert into api_tokens(name, role, token_hash, created_by, org, expires_at) values ($1,$2,$3,$4,$5,$6) returning id',
      [name, role, hashSecret(token), createdBy, org, expiresAt],
    );
    const id = Number(r.rows[0].id);
    this.byHash.set(hashSecret(token), { p: { tokenId: id, name, role, org }, expiresAt: expiresAt?.getTime() ?? null });
    return { id, token };
  }

  /** Tokens not revoked; `org` given: only that municipality's. */
  async list(org: string | null): Promise<TokenInfo[]> {
    const r = await this.db.query<Row>(
      'select id, name, role, org, created_at, created_by, last_used_at, expires_at from api_tokens where revoked_at is null and ($1::text is null or org = $1) order by id',
      [org],
    );
    const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
    return r.rows.map((x) => ({
      id: Number(x.id),
      name: x.name,
      role: x.role,
      org: x.org ?? null,
      createdAt: new Date(x.created_at).toISOString(),
      createdBy: x.created_by,
      lastUsedAt: iso(x.last_used_at),
      expiresAt: iso(x.expires_at),
    }));
  }

  /** Revokes a token (of `org`, when given). False when there is no such live token. */
  async revoke(id: string, org: string | null): Promise<boolean> {
    const r = await this.db.query('update api_tokens set revoked_at = now() where id = $1::bigint and revoked_at is null and ($2::text is null or org = $2)', [
      id,
      org,
    ]);
    for (const [h, c] of this.byHash) if (String(c.p.tokenId) === id && r.rowCount > 0) this.byHash.delete(h);
    return r.rowCount > 0;
  }

  /**
   * The bootstrap admin token: ADMIN_TOKEN if given, else the one in DATA_DIR/admin-token, else a new one
   * written there with mode 0600. Returns where it lives (never the token itself in logs).
   */
  async ensureAdmin(dataDir: string, configured?: string): Promise<{ token: string; source: string }> {
    let token = configured;
    let source = 'ADMIN_TOKEN';
    const file = path.join(dataDir, 'admin-token');
    if (!token) {
      source = file;
      if (fs.existsSync(file)) token = fs.readFileSync(file, 'utf8').trim();
      else {
        token = newToken('rwadmin');
        fs.mkdirSync(dataDir, { recursive: true });
        fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
      }
    }
    await this.db.query(
      `insert into api_tokens(name, role, token_hash, created_by) values ('bootstrap admin', 'admin', $1, 'system') on conflict (token_hash) do nothing`,
      [hashSecret(token)],
    );
    this.loadedAt = 0;
    return { token, source };
  }
}
