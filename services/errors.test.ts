import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config.ts';
import { MigrationError } from './db/migrate.ts';
import { HTTP_ERRORS, START_ERRORS, StartError, startFailure } from './errors.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const doc = fs.readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8');

/** The codes in the first column of the table under a `## heading` of docs/errors.md. */
function documented(heading: string): string[] {
  const section = doc.split(/^## /m).find((s) => s.startsWith(heading)) ?? '';
  return [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
}

describe('the error catalogue (services/errors.ts) and docs/errors.md', () => {
  it('list the same codes, each with its exit status or HTTP status', () => {
    expect(documented('Start')).toEqual(Object.keys(START_ERRORS));
    expect(documented('HTTP API')).toEqual(Object.keys(HTTP_ERRORS));
    for (const [code, e] of Object.entries(START_ERRORS)) expect(doc).toContain(`| \`${code}\` | ${e.exit} |`);
    for (const [code, e] of Object.entries(HTTP_ERRORS)) expect(doc).toContain(`| \`${code}\` | ${e.status} |`);
  });

  it('main.ts switches on every start code, not on message text', () => {
    const main = fs.readFileSync(path.join(ROOT, 'services/main.ts'), 'utf8');
    const cases = [...main.matchAll(/case '([A-Z_]+)':/g)].map((m) => m[1]);
    expect(cases.sort()).toEqual(Object.keys(START_ERRORS).sort());
    expect(main).not.toMatch(/\.message\.(includes|startsWith|match)|instanceof/);
  });

  it('every error that stops a start carries its code and exit status', () => {
    expect(startFailure(new ConfigError(['HTTP_PORT: bad']))).toMatchObject({ code: 'CONFIG_INVALID', exit: 2 });
    expect(startFailure(new MigrationError('x'))).toMatchObject({ code: 'MIGRATION_FAILED', exit: 1 });
    expect(startFailure(new StartError('DATABASE_REFUSED', 'no'))).toEqual({ code: 'DATABASE_REFUSED', exit: 1, message: 'no' });
    expect(startFailure(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeUndefined();
    expect(startFailure(null)).toBeUndefined();
  });

  it('the API answers only with codes of the catalogue', () => {
    const codes = new Set<string>();
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        const rel = path.join(dir, e.name);
        if (e.isDirectory()) walk(rel);
        else if (rel.endsWith('.ts') && !rel.endsWith('.test.ts'))
          for (const m of fs.readFileSync(path.join(ROOT, rel), 'utf8').matchAll(/error: \{ code: '([A-Z_]+)'|ApiError\('([A-Z_]+)'/g)) codes.add(m[1] ?? m[2]);
      }
    };
    walk('services/api');
    expect(codes.size).toBeGreaterThan(5);
    expect([...codes].filter((c) => !(c in HTTP_ERRORS))).toEqual([]);
  });
});
