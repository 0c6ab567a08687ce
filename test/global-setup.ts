// One temporary folder per test run: everything the tests (and the servers they start) put into the
// system's temporary directory lands here, and is removed when the run ends, so a run leaves nothing in /tmp.
// What a test forgot to remove is named, so it can be fixed where it is made.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'regenwacht-tests-'));
  fs.chmodSync(dir, 0o1777); // like /tmp: servers a test starts may drop to their own user (mosquitto does)
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir; // inherited by the test workers and by what they start
  return () => {
    // tsx keeps its compile cache there (tsx-<uid>): a cache, not something a test forgot
    const left = fs.readdirSync(dir).filter((f) => !f.startsWith('tsx-'));
    fs.rmSync(dir, { recursive: true, force: true });
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    if (left.length) console.warn(`tests left ${left.length} temporary entries (now removed): ${left.slice(0, 30).join(', ')}`);
  };
}
