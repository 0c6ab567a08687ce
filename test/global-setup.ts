// The whole run's temporary files live in one folder (test/tmp-run.ts); a run that leaves anything in it fails.
// Its PostgreSQL test databases share one name prefix and are dropped at its end.
import crypto from 'node:crypto';
import { dropRunDatabases } from './helpers/env.ts';
import { startTmpRun } from './tmp-run.ts';

export default function setup(): () => Promise<void> {
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
