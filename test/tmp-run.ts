// One temporary folder per test run. Everything the tests (and the servers they start) put into the system's
// temporary directory lands in it: TMPDIR points there for the workers and whatever they start. When the run
// ends the folder must be empty — what a test forgot is named, the folder removed, and the run fails.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TmpRun {
  readonly dir: string;
  /** Removes the folder; returns what was left in it (tsx's compile cache is a cache, chromium's PulseAudio folder the browser's, not leftovers). */
  finish(): string[];
}

export function startTmpRun(parent = os.tmpdir(), env: NodeJS.ProcessEnv = process.env): TmpRun {
  const dir = fs.mkdtempSync(path.join(parent, 'regenwacht-tests-'));
  fs.chmodSync(dir, 0o1777); // like /tmp: servers a test starts may drop to their own user (mosquitto does)
  const before = env.TMPDIR;
  env.TMPDIR = dir; // inherited by the test workers and by what they start
  return {
    dir,
    finish() {
      // pulse-*: the PulseAudio client inside Debian's chromium makes its runtime folder in TMPDIR when a page's
      // audio starts; it is the browser's, not a test's
      const left = fs.readdirSync(dir).filter((f) => !f.startsWith('tsx-') && !f.startsWith('pulse-'));
      fs.rmSync(dir, { recursive: true, force: true });
      if (before === undefined) delete env.TMPDIR;
      else env.TMPDIR = before;
      return left;
    },
  };
}
