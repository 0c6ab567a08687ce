import type { Db, Queryable } from '../db/db.ts';
import { hashSecret, newToken, sameHash } from './secrets.ts';

export interface MqttCredential {
  username: string;
  publish: string[];
  createdAt: string;
}

/** MQTT topic filter match with + and # wildcards. [MQTT-4.7.1] */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export function validFilter(f: string): boolean {
  if (!f || f.length > 512) return false;
  const parts = f.split('/');
  return parts.every((p, i) => (p.includes('#') ? p === '#' && i === parts.length - 1 : !p.includes('+') || p === '+'));
}

/** Hashed MQTT credentials with per-credential publish ACLs, cached in memory for the broker's hot path. */
export class MqttCredentialStore {
  private cache = new Map<string, { hash: string; publish: string[] }>();
  constructor(private db: Db) {}

  async load() {
    const r = await this.db.query<{ username: string; password_hash: string; publish: string[] }>('select username, password_hash, publish from mqtt_credentials');
    this.cache = new Map(r.rows.map((x) => [x.username, { hash: x.password_hash, publish: x.publish }]));
  }

  async create(q: Queryable, username: string, publish: string[], by: string): Promise<{ username: string; password: string }> {
    const password = newToken('mq');
    await q.query('insert into mqtt_credentials(username, password_hash, publish, created_by) values ($1,$2,$3,$4)', [username, hashSecret(password), publish, by]);
    this.cache.set(username, { hash: hashSecret(password), publish });
    return { username, password };
  }

  async list(): Promise<MqttCredential[]> {
    const r = await this.db.query<{ username: string; publish: string[]; created_at: Date }>('select username, publish, created_at from mqtt_credentials order by username');
    return r.rows.map((x) => ({ username: x.username, publish: x.publish, createdAt: new Date(x.created_at).toISOString() }));
  }

  async remove(q: Queryable, username: string): Promise<boolean> {
    const r = await q.query('delete from mqtt_credentials where username = $1', [username]);
    this.cache.delete(username);
    return r.rowCount > 0;
  }

  /** Reload from the database when the cache misses, so credentials made by another process work too. */
  async check(username: string | undefined, password: Buffer | undefined): Promise<boolean> {
    if (!username || !password) return false;
    let c = this.cache.get(username);
    if (!c) {
      await this.load();
      c = this.cache.get(username);
    }
    return !!c && sameHash(c.hash, hashSecret(password.toString('utf8')));
  }

  mayPublish(username: string | undefined, topic: string): boolean {
    const c = username ? this.cache.get(username) : undefined;
    return !!c && c.publish.some((f) => topicMatches(f, topic));
  }
}
