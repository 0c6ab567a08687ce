// The whole run's temporary files live in one folder (test/tmp-run.ts); a run that leaves anything in it fails.
import { startTmpRun } from './tmp-run.ts';

export default function setup(): () => void {
  const run = startTmpRun();
  return () => {
    const left = run.finish();
    if (!left.length) return;
    // vitest reports a thrown teardown error but still exits 0, so the exit code is set here
    console.error(`tests left ${left.length} entries in the temporary folder (now removed), fix where they are made: ${left.slice(0, 30).join(', ')}`);
    process.exitCode = 1;
  };
}
