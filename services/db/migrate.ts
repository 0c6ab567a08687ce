// Numbered SQL files applied in order under an advisory lock, recorded with checksums. [docs/guarantees.md]
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fromPackageRoot } from '../package-root.ts';
import type { Db } from './db.ts';

export const MIGRATIONS_DIR = fromPackageRoot('migrations');
const LOCK_KEY = 727_420_001; // arbitrary, constant: "regenwacht migrations"

/**
 * Checksums a migration had before an edit of its comments only (the SQL is the same): a database that
 * recorded one of them took the same schema, so its record is updated instead of refusing the start. Add an
 * entry only for an edit that changes no statement.
 */
const COMMENT_ONLY_EDITS: Record<number, string[]> = {
  // 2026-11: comments cited documents outside the repository; they now cite docs/
  3: ['9e630d4f79d995c2f5a27e64e22d00c47d4e08be686ccecefa68d0b7a34739e7'],
  6: ['0183f5bd9cbb4d2f5cd664a56f0d55e99898bf7522f2bea254962b9d7ca8d590'],
};

export class MigrationError extends Error {
  /** its code in the error catalogue (services/errors.ts, docs/errors.md) */
  readonly code = 'MIGRATION_FAILED';
}

interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  checksum: string;
  needsTimescale: boolean;
}

export function readMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
  const files = fs.readdirSync(dir).filter((f) => /^\d+_.+\.sql$/.test(f));
  const out = files.map((f) => {
    const sql = fs.readFileSync(path.join(dir, f), 'utf8');
    return {
      version: Number.parseInt(f, 10),
      name: f,
      sql,
      checksum: crypto.createHash('sha256').update(sql).digest('hex'),
      // Files whose first line says so run only where TimescaleDB is installed.
      needsTimescale: /^--\s*requires:\s*timescaledb/m.test(sql.split('\n')[0] ?? ''),
    };
  });
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i].version === out[i - 1].version) throw new MigrationError(`two migrations share version ${out[i].version}: ${out[i - 1].name}, ${out[i].name}`);
  }
  return out;
}

/** Installs TimescaleDB when the server offers it; returns whether it is present. */
async function enableTimescale(db: Db): Promise<boolean> {
  const avail = await db.query<{ n: number }>("select count(*)::int as n from pg_available_extensions where name = 'timescaledb'");
  if (!avail.rows[0]?.n) return false;
  try {
    await db.exec('create extension if not exists timescaledb');
  } catch {
    return false; // offered but not preloaded (shared_preload_libraries): run on plain tables
  }
  const r = await db.query<{ n: number }>("select count(*)::int as n from pg_extension where extname = 'timescaledb'");
  return (r.rows[0]?.n ?? 0) > 0;
}

export async function migrate(db: Db, opts: { dir?: string; log?: (msg: string) => void } = {}): Promise<{ applied: string[] }> {
  const files = readMigrations(opts.dir);
  db.timescale = await enableTimescale(db);
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    // Transaction-scoped lock: a second process waits here, then sees everything applied.
    await tx.query('select pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await tx.exec(`create table if not exists schema_migrations (
      version int primary key, name text not null, checksum text not null, applied_at timestamptz not null default now())`);
    const done = new Map<number, { name: string; checksum: string }>();
    for (const r of (await tx.query<{ version: number; name: string; checksum: string }>('select version, name, checksum from schema_migrations')).rows) {
      done.set(r.version, r);
    }
    for (const m of files) {
      const prev = done.get(m.version);
      if (prev) {
        if (prev.checksum !== m.checksum && COMMENT_ONLY_EDITS[m.version]?.includes(prev.checksum)) {
          await tx.query('update schema_migrations set checksum = $2 where version = $1', [m.version, m.checksum]);
        } else if (prev.checksum !== m.checksum) {
          throw new MigrationError(
            `migration ${m.name} was changed after it was applied (checksum ${m.checksum.slice(0, 12)} ≠ recorded ${prev.checksum.slice(0, 12)}); add a new migration file instead of editing an applied one`,
          );
        }
        continue;
      }
      if (m.needsTimescale && !db.timescale) continue;
      try {
        await tx.exec(m.sql);
      } catch (e) {
        throw new MigrationError(`migration ${m.name} failed: ${(e as Error).message}`);
      }
      await tx.query('insert into schema_migrations(version, name, checksum) values ($1, $2, $3)', [m.version, m.name, m.checksum]);
      applied.push(m.name);
      opts.log?.(`applied migration ${m.name}`);
    }
  });
  // A continuous aggregate cannot be filled inside a transaction: the rollups a migration recreated empty are
  // filled here, once, up to the current hour (real-time aggregation answers the rest). [migrations/019]
  for (const [name, view] of FILL_AFTER) {
    if (!applied.includes(name)) continue;
    const t0 = performance.now();
    await db.exec(`call refresh_continuous_aggregate('${view}', null, date_trunc('hour', now()))`);
    opts.log?.(`filled ${view} in ${Math.round(performance.now() - t0)} ms`);
  }
  return { applied };
}

/** Migrations that recreate a continuous aggregate empty, and the aggregate to fill after them. */
const FILL_AFTER: ReadonlyArray<[string, string]> = [['019_readings_1h_evaluated.sql', 'readings_1h']];
