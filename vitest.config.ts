import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/slow-first-sequencer.ts';

export default defineConfig({
  test: {
    include: ['services/**/*.test.ts', 'alerts/**/*.test.ts', 'firmware-sim/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30000,
    hookTimeout: 60000,
    pool: 'forks',
    // Two files at a time (vitest's default on a 2-core machine is one): on a slow day for this machine the whole
    // suite took 810 s of npm test with two and 1 125 s with one, both green; every file runs in its own process.
    maxWorkers: 2,
    sequence: { sequencer: SlowFirstSequencer },
    globalSetup: ['test/global-setup.ts'],
  },
});
