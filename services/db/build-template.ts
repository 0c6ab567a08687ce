// `npm run build` (and so `npm ci`, through `prepare`): makes dist/pglite-template/, the embedded database a
// first start copies instead of creating it (services/db/pglite-template.ts). Does nothing when a template
// made from the same migrations and PGlite version is already there.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { migrate } from './migrate.ts';
import { createPgliteDb } from './pglite-driver.ts';
import { stampTemplate, TEMPLATE_DIR, usableTemplate } from './pglite-template.ts';

/** Makes a template in `target` (a folder holding `pg/` and its stamp) unless a usable one is there. */
export async function buildTemplate(target = TEMPLATE_DIR, log: (m: string) => void = () => {}): Promise<void> {
  if (usableTemplate(target)) {
    log(`${target} is up to date`);
    return;
  }
  const t0 = Date.now();
  const building = `${target}.building-${process.pid}`;
  fs.rmSync(building, { recursive: true, force: true });
  fs.mkdirSync(building, { recursive: true });
  try {
    // createPgliteDb keeps its database in <dir>/pg, the layout the template copies from
    const db = await createPgliteDb(building, { progress: log });
    await migrate(db, { log });
    await db.exec('checkpoint');
    await db.close();
    stampTemplate(building);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(building, target);
  } finally {
    fs.rmSync(building, { recursive: true, force: true });
  }
  log(`made ${target} in ${Math.round((Date.now() - t0) / 1000)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await buildTemplate(TEMPLATE_DIR, (m) => console.log(`embedded database template: ${m}`));
}
