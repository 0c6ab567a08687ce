// Files the server reads at run time (migrations/) are found from the package root: the nearest directory
// above this module that holds a package.json. That is the repository when `tsx services/main.ts` runs from
// the source tree, and the folder above dist/ when `node dist/services/main.js` runs from the build output
// (in the image, /app). One helper, so both ways of running read the same paths.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest directory at or above `from` (a file or directory path or file: URL) holding a package.json. */
export function findPackageRoot(from: string | URL): string {
  const start = path.resolve(typeof from === 'string' && !from.startsWith('file:') ? from : fileURLToPath(from));
  let dir = fs.existsSync(start) && !fs.statSync(start).isDirectory() ? path.dirname(start) : start;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json in ${start} or above`);
    dir = up;
  }
}

export const PACKAGE_ROOT = findPackageRoot(import.meta.url);

/** A path inside the installed package, e.g. `fromPackageRoot('migrations')`. */
export const fromPackageRoot = (...segments: string[]): string => path.join(PACKAGE_ROOT, ...segments);
