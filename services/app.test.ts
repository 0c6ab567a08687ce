import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { freePort } from '../test/helpers/env.ts';
import { startRegenwacht } from './app.ts';

describe('start with PostgreSQL unreachable', () => {
  it('waits, then names the database (never its password) and what to check', async () => {
    const port = await freePort(); // nothing listens there
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-nodb-'));
    const t0 = Date.now();
    const err = await startRegenwacht(
      { dataDir, httpPort: 0, mqttPort: 0, databaseUrl: `postgres://rw:s3cret-pw@127.0.0.1:${port}/regenwacht`, dbWaitMs: 1500, env: {} },
      pino({ level: 'silent' }),
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400); // it did wait
    expect(err?.message).toMatch(new RegExp(`cannot reach the database at 127\\.0\\.0\\.1:${port}/regenwacht \\(ECONNREFUSED\\) after 2 s; check DATABASE_URL`));
    expect(err?.message).not.toContain('s3cret-pw');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});
