// The whole run's temporary files live in one folder (test/tmp-run.ts); a run that leaves anything in it fails.
// Its PostgreSQL test databases share one name prefix and are dropped at its end.
import crypto from 'node:crypto';
import { buildTemplate } from '../services/db/build-template.ts';
import { dropRunDatabases } from './helpers/env.ts';
import { startTmpRun } from './tmp-run.ts';

export default async function setup(): Promise<() => Promise<void>> {
  // Every embedded-store test copies the prepared database (dist/pglite-template/). After a pull that brought a
  // new migration it no longer matches, and each start would create its database the slow way (~20 s under
  // load instead of ~1 s): remake it once here.
  await buildTemplate(undefined, (m) => m.startsWith('made') && console.log(`embedded database template: ${m}`));
  const run = startTmpRun();
  // names this run's test databases; those a test file left (its drop runs after its last test, unawaited)
  // are dropped here
  process.env.RW_TEST_RUN = crypto.randomBytes(4).toString('hex');
  return async () => {
    await dropRunDatabases().catch((e) => console.warn(`test databases of this run not dropped: ${(e as Error).message}`));
    const left = run.finish();
    if (!left.length) return;
    // vitest reports a thrown teardown error but still exits 0, so the exit code is set here
    console.error(`tests left ${left.length} entries in the temporary folder (now removed), fix where they are made: ${left.slice(0, 30).join(', ')}`);
    process.exitCode = 1;
  };
}
