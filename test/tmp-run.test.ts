// "The test suite leaves no files in /tmp" holds because the run's temporary folder is checked at the end:
// these cases show the check sees a leftover, ignores tsx's cache, and puts TMPDIR back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTmpRun } from './tmp-run.ts';

const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'tmp-run-test-'));
afterAll(() => fs.rmSync(parent, { recursive: true, force: true }));

describe('the run folder for temporary files', () => {
  it('this run writes its temporary files into a run folder, not straight into the system one', () => {
    expect(path.basename(os.tmpdir())).toMatch(/^regenwacht-tests-/);
  });

  it('names what a test left behind, and removes the folder', () => {
    const env: NodeJS.ProcessEnv = { TMPDIR: '/somewhere' };
    const run = startTmpRun(parent, env);
    expect(env.TMPDIR).toBe(run.dir);
    fs.mkdtempSync(path.join(run.dir, 'forgotten-'));
    fs.writeFileSync(path.join(run.dir, 'stray.txt'), 'x');
    fs.mkdirSync(path.join(run.dir, 'tsx-1000'));
    const left = run.finish();
    expect(left.sort()).toEqual([expect.stringMatching(/^forgotten-/), 'stray.txt']);
    expect(fs.existsSync(run.dir)).toBe(false);
    expect(env.TMPDIR).toBe('/somewhere');
  });

  it('an empty folder is no finding', () => {
    const env: NodeJS.ProcessEnv = {};
    const run = startTmpRun(parent, env);
    expect(run.finish()).toEqual([]);
    expect('TMPDIR' in env).toBe(false);
  });
});
