// The suite runs its files on two workers; it ends when the last file ends, so the longest files must start
// first. vitest orders by the durations of the previous run where it has them (node_modules/.vite), but a
// fresh clone (.ci/run) has none and vitest then runs the largest source files first, which are not the
// slow ones. The files that took longest in the measured run (2026-11-30 evening, `npx vitest run
// --reporter=json`, per file endTime − startTime) start first, in this order; every other file keeps vitest's
// own order after them. A file missing here is only started later.
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const SLOW_FIRST = [
  'test/e2e/image.test.ts',
  'test/e2e/failover.test.ts',
  'test/e2e/nowcast-storm.test.ts',
  'test/e2e/dwd-warnings.test.ts',
  'services/db/migrate.test.ts',
  'test/e2e/alarm-scenarios.test.ts',
  'test/e2e/alarm-messages.test.ts',
  'test/e2e/alarm-lifecycle.test.ts',
  'test/e2e/faults.test.ts',
  'test/e2e/notify.test.ts',
  'test/e2e/backtest-live.test.ts',
  'test/e2e/crash.test.ts',
  'test/e2e/console-devices.test.ts',
  'services/db/pglite-template.test.ts',
  'services/app.test.ts',
];

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOW_FIRST.indexOf(path.relative(f.project.config.root, f.moduleId).split(path.sep).join('/'));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    // Array.prototype.sort is stable: files not in the list keep vitest's order
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
