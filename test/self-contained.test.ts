// The repository is self-contained: `npm test` on a fresh clone reads nothing outside it, and every document
// a comment or error message cites is in the repository. (Migrations are immutable once released, so their
// comments are not checked for citations; docs/reference/ are research notes citing other projects' files.)
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'data', 'coverage']);
const CODE = /\.(ts|mts|mjs|js|cjs)$/;

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(path.join(dir, e.name), out);
    } else out.push(path.relative(ROOT, path.join(dir, e.name)));
  }
  return out;
}

const files = walk(ROOT);
const code = files.filter((f) => CODE.test(f) && f !== 'test/self-contained.test.ts');
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');

describe('self-contained repository', () => {
  it('no code reads a path outside the repository', () => {
    const outside = /\.\.\/shared\b|['"`]\/(work|home|root|Users|srv|opt)\//;
    const hits = code.filter((f) => outside.test(read(f)));
    expect(hits, 'files naming ../shared or an absolute path').toEqual([]);
  });

  it('comments and messages cite documents that exist in the repository', () => {
    const missing: string[] = [];
    for (const f of [...code, ...files.filter((x) => x.endsWith('.md') && x !== 'CHANGELOG.md' && !x.startsWith('docs/reference/'))]) {
      const text = read(f);
      if (/\[CONTRACT\b|CONTRACT §/.test(text)) missing.push(`${f}: cites CONTRACT, which is not in the repository`);
      // a cited document, e.g. [docs/api.md Rules] or (docs/reference/lorawan.md §4.1), is a file of the repository
      for (const m of text.matchAll(/[[(]([\w./-]+\.md)\b/g)) {
        if (!fs.existsSync(path.join(ROOT, m[1])) && !fs.existsSync(path.join(ROOT, path.dirname(f), m[1]))) missing.push(`${f}: ${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every vendor vector file is in the repository and its source is named in test/fixtures/README.md', () => {
    const readme = read('test/fixtures/README.md');
    const vectors = fs.readdirSync(path.join(ROOT, 'test/fixtures/vectors'));
    expect(vectors.length).toBeGreaterThan(0);
    for (const v of vectors) {
      expect(readme, v).toContain(`\`${v}\``);
      for (const entry of JSON.parse(read(`test/fixtures/vectors/${v}`)) as { source?: string }[]) expect(entry.source, v).toBeTruthy();
    }
    expect(fs.existsSync(path.join(ROOT, 'test/fixtures/cap/CAP-v1.2.xsd'))).toBe(true);
  });
});
