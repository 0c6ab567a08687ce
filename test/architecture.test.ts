// The shape a newcomer relies on, checked on every run: no import cycles in the product code, and alerts/
// (the alarm domain) stays pure — it imports nothing from services/ and does no network or filesystem I/O,
// so it can be read and tested without a database, a broker or a socket. [docs/architecture.md]
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const PRODUCT_DIRS = ['services', 'alerts', 'firmware-sim'];

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) walk(rel, out);
    else if (/\.ts$/.test(e.name)) out.push(rel);
  }
  return out;
}

/** Every import of a file (static, dynamic, `import type`, re-exports), as written. */
function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** The repository-relative file an import names, or null for a package or node: module. */
function resolve(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const files = PRODUCT_DIRS.flatMap((d) => walk(d));

/** A string or template literal that is SQL: a query, a statement, or a fragment with a subquery. */
const SQL_TEXT =
  /\b(select\s[\s\S]*?\sfrom\s+[a-z_]+|insert\s+into\s+[a-z_]+|update\s+[a-z_]+(\s+[a-z])?\s+set\s|delete\s+from\s+[a-z_]+|alter\s+table|create\s+(unique\s+)?(table|index))/i;
function sqlIn(file: string): boolean {
  const src = ts.createSourceFile(file, fs.readFileSync(path.join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, false);
  const visit = (n: ts.Node): boolean => {
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) return SQL_TEXT.test(n.text);
    if (ts.isTemplateExpression(n)) return SQL_TEXT.test([n.head.text, ...n.templateSpans.map((x) => x.literal.text)].join(' x '));
    return ts.forEachChild(n, visit) ?? false;
  };
  return visit(src);
}

/** Files that run SQL but are not stores yet (2026-11-30). The rule is in docs/architecture.md; move the SQL
 *  into the feature's store and take the file off this list. */
const SQL_NOT_YET_IN_A_STORE = new Set([
  // alarm side: the notifier's claim/deliver loop, the scheduler's reminders, the engine's refill at start
  'services/alarms/engine-hydration.ts',
  'services/alarms/notifier.ts',
  'services/alarms/reminders.ts',
  // tables whose only reader and writer is this file: stores in all but name
  'services/auth/mqtt-client-ids.ts',
  'services/auth/org-overview.ts',
  'services/devices/device-registry.ts',
  'services/devices/device-status.ts',
  'services/devices/fleet-health.ts',
  'services/devices/readings.ts',
  'services/devices/stuck-buckets.ts',
  'services/devices/uplink-log.ts',
  'services/ingest/rejected-uplinks.ts',
  'services/opendata/open-data-settings.ts',
  'services/web/users.ts',
  // ingest's hot path: the batch writer's one statement per batch, the counters it seeds from
  'services/ingest/steps-impl.ts',
  'services/ingest/writer.ts',
  // infrastructure: one query each to fingerprint the configuration, watch alarms, keep membership and jobs
  'services/config-sync.ts',
  'services/responders/sms-replies.ts',
  'services/scheduler/membership.ts',
  'services/web/feed-poll.ts',
  'services/web/situation.ts',
  // the SensorThings compiler: $filter syntax tree → parameterised SQL (its output is SQL by design)
  'services/opendata/sta/sta-queries.ts',
]);

const imports = new Map(files.map((f) => [f, importsOf(fs.readFileSync(path.join(ROOT, f), 'utf8'))]));
const graph = new Map([...imports].map(([f, specs]) => [f, specs.map((s) => resolve(f, s)).filter((t): t is string => t !== null)]));

// Modules and globals through which code reaches the network or the filesystem.
const IO_MODULES = /^(node:)?(fs|fs\/promises|http|https|http2|net|tls|dgram|dns|child_process|worker_threads)$|^(undici|pg|mqtt|aedes)$/;
const IO_GLOBALS = new Set(['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource']);

/** Identifiers in a file that name a network global as a value (not a property name like `opts.fetch`). */
function ioGlobalsUsed(file: string, source: string): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const used: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isIdentifier(n) && IO_GLOBALS.has(n.text)) {
      const p = n.parent;
      const isName = (ts.isPropertyAccessExpression(p) && p.name === n) || ((ts.isPropertySignature(p) || ts.isPropertyAssignment(p)) && p.name === n);
      if (!isName) used.push(`${n.text} (line ${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1})`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return used;
}

describe('architecture', () => {
  it('the cycle finder sees a cycle, a self-import and a clean chain for what they are', () => {
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c']]);
    expect(cycles(new Map([['a', ['a']]]))).toEqual([['a']]);
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', []],
        ]),
      ),
    ).toEqual([]);
    expect(ioGlobalsUsed('x.ts', 'const r = await (o.fetch ?? fetch)(u); type F = { fetch?: 1 };')).toEqual(['fetch (line 1)']);
    expect(importsOf("import type { A } from './a.ts';\nexport * from './b.ts';\nconst c = await import('./c.ts');")).toEqual(['./a.ts', './b.ts', './c.ts']);
  });

  it('product code has no import cycles (type-only and dynamic imports included)', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(cycles(graph)).toEqual([]);
  });

  it('alerts/ imports nothing from services/ (or any other folder outside alerts/)', () => {
    const outside: string[] = [];
    for (const [f, targets] of graph) {
      if (!f.startsWith('alerts/')) continue;
      for (const t of targets) if (!t.startsWith('alerts/')) outside.push(`${f} -> ${t}`);
    }
    expect(outside).toEqual([]);
  });

  it('alerts/ uses no network or filesystem module or global', () => {
    const io: string[] = [];
    for (const [f, specs] of imports) {
      if (!f.startsWith('alerts/') || f.endsWith('.test.ts')) continue;
      for (const s of specs) if (IO_MODULES.test(s)) io.push(`${f} imports ${s}`);
      for (const g of ioGlobalsUsed(f, fs.readFileSync(path.join(ROOT, f), 'utf8'))) io.push(`${f} uses ${g}`);
    }
    expect(io).toEqual([]);
  });

  // One place per fact, so a change is made once: the silences table, the severity order, duration syntax.
  it.each([
    ['the silences table is read and written only by the silence store', /\b(from|into|update)\s+silences\b/, 'services/alarms/silence-store.ts'],
    ['the severity order is spelled only in alerts/types.ts', /['"]minor['"],\s*['"]moderate['"]|['"]extreme['"],\s*['"]severe['"]/, 'alerts/types.ts'],
    ['durations ("15m") are parsed only in alerts/rules/duration.ts', /\(s\|m\|h\|d\)|\[smhd\]/, 'alerts/rules/duration.ts'],
  ])('%s', (_name, pattern, owner) => {
    const where = files.filter((f) => !f.endsWith('.test.ts') && pattern.test(fs.readFileSync(path.join(ROOT, f), 'utf8')));
    expect(where).toEqual([owner]);
  });

  it('HTTP route files run no SQL: they import no database driver and call no .query( (stores own the SQL)', () => {
    const routeFiles = files.filter((f) => f.startsWith('services/api/routes/') && !f.endsWith('.test.ts'));
    expect(routeFiles.length).toBeGreaterThan(10);
    const sql: string[] = [];
    for (const f of routeFiles) {
      for (const s of imports.get(f) ?? [])
        if (/^(pg|@electric-sql\/pglite|@unni-craftsman\/pglite)$/.test(s) || /\/db\/db\.ts$/.test(s)) sql.push(`${f} imports ${s}`);
      if (/\.(query|transaction)\s*(<[^>]*>)?\s*\(/.test(fs.readFileSync(path.join(ROOT, f), 'utf8'))) sql.push(`${f} runs a query or transaction`);
    }
    expect(sql).toEqual([]);
  });

  it('SQL lives only in stores (*-store.ts) and services/db/; the files that still hold some are listed and only shrink', () => {
    const holding = files.filter((f) => f.startsWith('services/') && !f.endsWith('.test.ts') && sqlIn(f));
    expect(holding.length).toBeGreaterThan(15); // the detector finds the stores
    const outside = holding.filter((f) => !/-store\.ts$/.test(f) && !f.startsWith('services/db/'));
    // a new file with SQL fails here: put the SQL into a store
    expect(outside.filter((f) => !SQL_NOT_YET_IN_A_STORE.has(f))).toEqual([]);
    // a file moved to a store leaves the list
    expect([...SQL_NOT_YET_IN_A_STORE].filter((f) => !outside.includes(f))).toEqual([]);
  });

  it('the path of one uplink in docs/architecture.md names files and functions that exist', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## The path of one uplink')).split(/\n## /)[0];
    expect(section).toMatch(/1\. \*\*Broker\*\*[\s\S]*8\. \*\*Channel\*\*/);
    const all = [...files, ...walk('test')];
    const filesNamed = (token: string) => (token.includes('/') ? all.filter((f) => f === token) : all.filter((f) => f.endsWith(`/${token}`)));
    const problems: string[] = [];
    for (const [, token] of section.matchAll(/`([^`]+\.ts)`/g)) if (!filesNamed(token).length) problems.push(`${token}: no such file`);
    // `file.ts` `Class.method` (or `function`): defined in that file
    for (const [, file, fn] of section.matchAll(/`([^`]+\.ts)`\s+`([A-Za-z_][\w.]*)`/g)) {
      const [f, ...more] = filesNamed(file);
      const name = fn.split('.').pop()!;
      const defined = new RegExp(`(function|class|const)\\s+${name}\\b|^\\s*((private|protected|public|static|async)\\s+)*${name}\\s*[(<]`, 'm');
      if (f && !more.length && !defined.test(fs.readFileSync(path.join(ROOT, f), 'utf8'))) problems.push(`${fn} is not defined in ${f}`);
    }
    expect(problems).toEqual([]);
  });

  it('ingest never reaches the alarm code, not even through another file', () => {
    const reach = (from: string, seen = new Set<string>()): Set<string> => {
      for (const t of graph.get(from) ?? []) if (!seen.has(t)) reach(t, seen.add(t));
      return seen;
    };
    const alarmCode = /^(services\/alarms\/|alerts\/engine\/)/;
    const hits = files
      .filter((f) => f.startsWith('services/ingest/') && !f.endsWith('.test.ts'))
      .flatMap((f) => [...reach(f)].filter((t) => alarmCode.test(t)).map((t) => `${f} -> ${t}`));
    expect(hits).toEqual([]);
  });

  it('the hops of an uplink are wired at construction: no hook is assigned to a built object', () => {
    const hook = /(?<!\bthis)\.(onCommitted|onClaimed|onNotify|transitionHook|deliversHere|onChanged)\s*=[^=]/;
    const where = files.filter((f) => !f.endsWith('.test.ts') && hook.test(fs.readFileSync(path.join(ROOT, f), 'utf8')));
    expect(where).toEqual([]);
  });

  it('starting a process reads as a list of steps, each fitting on a screen (services/app.ts, services/start/)', () => {
    const long: string[] = [];
    for (const f of files.filter((x) => x === 'services/app.ts' || x.startsWith('services/start/'))) {
      const sf = ts.createSourceFile(f, fs.readFileSync(path.join(ROOT, f), 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (n: ts.Node): void => {
        if ((ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n)) && n.body) {
          const lines = sf.getLineAndCharacterOfPosition(n.end).line - sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
          if (lines > 55) long.push(`${f} ${n.name?.getText()}: ${lines} lines`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    expect(long).toEqual([]);
  });

  it('no double cast (as unknown as) in production code', () => {
    const where = files.filter((f) => !f.endsWith('.test.ts') && /\bas unknown as\b/.test(fs.readFileSync(path.join(ROOT, f), 'utf8')));
    expect(where).toEqual([]);
  });
});
