// MQTT credentials in PostgreSQL: hashed passwords with per-credential publish and subscribe ACLs, cached
// for the broker's hot path. [docs/security.md]
import type { Db, Queryable } from '../db/db.ts';
import { filterCovers, forbiddenSubscription, type MqttCredential, topicMatches } from './mqtt-credentials.ts';
import { hashSecret, newToken, sameHash } from './secrets.ts';

interface Entry {
  hash: string;
  publish: string[];
  subscribe: string[];
  org: string | null;
}

interface Row {
  username: string;
  password_hash: string;
  publish: string[];
  subscribe: string[] | null;
  org: string | null;
}

/** Hashed MQTT credentials with per-credential publish and subscribe ACLs, cached for the broker's hot path. */
export class MqttCredentialStore {
  private cache = new Map<string, Entry>();
  private revokedListeners: Array<(username: string) => void> = [];
  private lastMissLoad = 0;
  constructor(private db: Db) {}

  /** Called when a credential is deleted or its password changes, here or (after load) in another process. */
  onRevoked(fn: (username: string) => void) {
    this.revokedListeners.push(fn);
  }

  private revoked(username: string) {
    for (const fn of this.revokedListeners) fn(username);
  }

  async load() {
    const r = await this.db.query<Row>('select username, password_hash, publish, subscribe, org from mqtt_credentials');
    const next = new Map(r.rows.map((x) => [x.username, { hash: x.password_hash, publish: x.publish, subscribe: x.subscribe ?? [], org: x.org }]));
    const before = this.cache;
    this.cache = next;
    for (const [u, e] of before) if (next.get(u)?.hash !== e.hash) this.revoked(u);
  }

  async create(
    q: Queryable,
    c: { username: string; publish: string[]; subscribe?: string[]; org?: string | null },
    by: string,
  ): Promise<{ username: string; password: string }> {
    const password = newToken('mq');
    const e: Entry = { hash: hashSecret(password), publish: c.publish, subscribe: c.subscribe ?? [], org: c.org ?? null };
    await q.query('insert into mqtt_credentials(username, password_hash, publish, subscribe, org, created_by) values ($1,$2,$3,$4,$5,$6)', [
      c.username,
      e.hash,
      e.publish,
      e.subscribe,
      e.org,
      by,
    ]);
    this.cache.set(c.username, e);
    return { username: c.username, password };
  }

  /** Is this username taken, in any municipality? Asks the database, not the cache (another process may have made it). */
  async taken(username: string): Promise<boolean> {
    const r = await this.db.query('select 1 from mqtt_credentials where username = $1', [username]);
    return r.rowCount > 0;
  }

  async list(org: string | null = null): Promise<MqttCredential[]> {
    const r = await this.db.query<Row & { created_at: Date }>(
      'select username, publish, subscribe, org, created_at from mqtt_credentials where ($1::text is null or org = $1) order by username',
      [org],
    );
    return r.rows.map((x) => ({
      username: x.username,
      publish: x.publish,
      subscribe: x.subscribe ?? [],
      org: x.org,
      createdAt: new Date(x.created_at).toISOString(),
    }));
  }

  /** Does the credential exist for a principal of `org` (null: the whole installation)? */
  async visible(username: string, org: string | null): Promise<boolean> {
    const r = await this.db.query('select 1 from mqtt_credentials where username = $1 and ($2::text is null or org = $2)', [username, org]);
    return r.rowCount > 0;
  }

  async remove(q: Queryable, username: string): Promise<boolean> {
    const r = await q.query('delete from mqtt_credentials where username = $1', [username]);
    this.cache.delete(username);
    this.revoked(username);
    return r.rowCount > 0;
  }

  /** A new password; the old one and every connection made with it stop working at once. */
  async rotate(q: Queryable, username: string): Promise<string | undefined> {
    const password = newToken('mq');
    const hash = hashSecret(password);
    const r = await q.query('update mqtt_credentials set password_hash = $2, updated_at = now() where username = $1', [username, hash]);
    if (!r.rowCount) return undefined;
    const c = this.cache.get(username);
    if (c) c.hash = hash;
    this.revoked(username);
    return password;
  }

  /** Reload from the database when the cache misses, so credentials made by another process work too. */
  async check(username: string | undefined, password: Buffer | undefined): Promise<boolean> {
    if (!username || !password) return false;
    let c = this.cache.get(username);
    // at most one reload a second, so a flood of made-up usernames does not become a flood of queries
    if (!c && Date.now() - this.lastMissLoad > 1000) {
      this.lastMissLoad = Date.now();
      await this.load();
      c = this.cache.get(username);
    }
    return !!c && sameHash(c.hash, hashSecret(password.toString('utf8')));
  }

  /** For a login by client certificate: is there a credential of this name (reloaded on a miss, as check)? */
  async exists(username: string): Promise<boolean> {
    if (!this.cache.has(username) && Date.now() - this.lastMissLoad > 1000) {
      this.lastMissLoad = Date.now();
      await this.load();
    }
    return this.cache.has(username);
  }

  orgOf(username: string | undefined): string | null | undefined {
    return username ? this.cache.get(username)?.org : undefined;
  }

  mayPublish(username: string | undefined, topic: string): boolean {
    const c = username ? this.cache.get(username) : undefined;
    return !!c && c.publish.some((f) => topicMatches(f, topic));
  }

  /** Denied unless the credential's subscribe patterns cover the whole filter. */
  maySubscribe(username: string | undefined, filter: string): boolean {
    const c = username ? this.cache.get(username) : undefined;
    return !!c && !forbiddenSubscription(filter) && c.subscribe.some((p) => filterCovers(p, filter));
  }
}
