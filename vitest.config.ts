import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/slow-first-sequencer.ts';

export default defineConfig({
  test: {
    include: ['services/**/*.test.ts', 'alerts/**/*.test.ts', 'firmware-sim/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30000,
    hookTimeout: 60000,
    pool: 'forks',
    // One file at a time (vitest's default on a 2-core machine). Two at a time was tried: the whole suite took
    // 810 s against ~600 s, the files' servers, PostgreSQL and the browser compete for the two cores.
    // The slowest files still start first. [README.md npm test]
    sequence: { sequencer: SlowFirstSequencer },
    globalSetup: ['test/global-setup.ts'],
  },
});
