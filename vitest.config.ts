import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/slow-first-sequencer.ts';

export default defineConfig({
  test: {
    include: ['services/**/*.test.ts', 'alerts/**/*.test.ts', 'firmware-sim/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30000,
    hookTimeout: 60000,
    pool: 'forks',
    // vitest's default is one worker fewer than cores, i.e. one file at a time on a 2-core machine, and most
    // files spend much of their time waiting (child processes, PostgreSQL, the browser, the broker). Two
    // files at a time; every file still runs in its own process. [README.md npm test]
    maxWorkers: 2,
    sequence: { sequencer: SlowFirstSequencer },
    globalSetup: ['test/global-setup.ts'],
  },
});
