import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTemplate } from './build-template.ts';
import { migrate } from './migrate.ts';
import { createPgliteDb } from './pglite-driver.ts';
import { usableTemplate } from './pglite-template.ts';

describe('the embedded database template (first start without initdb)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-template-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a first start copies it: the tables are there, no migration left to apply, the template is unchanged', async () => {
    const template = path.join(tmp, 'template');
    await buildTemplate(template);
    const data = usableTemplate(template);
    expect(data).toBe(path.join(template, 'pg'));
    const before = fs.readdirSync(data!, { recursive: true }).length;

    const lines: string[] = [];
    const dataDir = path.join(tmp, 'data');
    const db = await createPgliteDb(dataDir, { template: data, progress: (m) => lines.push(m) });
    try {
      expect(lines[0]).toBe(`creating the embedded database in ${path.join(dataDir, 'pg')} from the prepared template (first start only)`);
      expect(lines[1]).toMatch(/^embedded database created in \d+\.\d s$/);
      expect((await migrate(db)).applied).toEqual([]);
      expect(db.timescale).toBe(true);
      await db.query("insert into devices(id, name, model) values ('d1', 'Pegel', 'generic')");
      expect((await db.query('select id from devices')).rows).toEqual([{ id: 'd1' }]);
    } finally {
      await db.close();
    }
    // the copy is the new database's own; nothing leaked back into the template or beside it
    expect(fs.readdirSync(data!, { recursive: true }).length).toBe(before);
    expect(fs.readdirSync(dataDir)).toEqual(['pg']);
  }, 180_000);

  it('a template made from other migrations (or another PGlite) is not used', () => {
    const stale = path.join(tmp, 'stale');
    fs.mkdirSync(path.join(stale, 'pg'), { recursive: true });
    fs.writeFileSync(path.join(stale, 'pg', 'PG_VERSION'), '17\n');
    fs.writeFileSync(path.join(stale, 'made-from.txt'), 'pglite 0.0.1\n001_foundation.sql 00\n');
    expect(usableTemplate(stale)).toBeUndefined();
    expect(usableTemplate(path.join(tmp, 'missing'))).toBeUndefined();
  });
});
