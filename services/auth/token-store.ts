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

/** API tokens, looked up by hash with a short cache so every request is not a query. */
export class TokenStore {
  private cache = new Map<string, { p: Principal | null; until: number }>();
  constructor(private db: Db) {}

  async verify(token: string): Promise<Principal | null> {
    const h = hashSecret(token);
    const hit = this.cache.get(h);
    if (hit && hit.until > Date.now()) return hit.p;
    const r = await this.db.query<{ id: number; name: string; role: ApiRole; org: string | null }>(
      'select id, name, role, org from api_tokens where token_hash = $1 and revoked_at is null',
      [h],
    );
    const p = r.rows[0] ? { tokenId: r.rows[0].id, name: r.rows[0].name, role: r.rows[0].role, org: r.rows[0].org ?? null } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(h, { p, until: Date.now() + (p ? 30_000 : 2_000) });
    return p;
  }

  /** `org` null: the token acts for the whole installation. */
  async create(name: string, role: ApiRole, createdBy: string, org: string | null = null): Promise<{ id: number; token: string }> {
    const token = newToken();
    const r = await this.db.query<{ id: number }>('insert into api_tokens(name, role, token_hash, created_by, org) values ($1,$2,$3,$4,$5) returning id', [
      name,
      role,
      hashSecret(token),
      createdBy,
      org,
    ]);
    return { id: r.rows[0].id, token };
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
    return { token, source };
  }
}
