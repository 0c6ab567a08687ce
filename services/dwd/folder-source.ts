// Offline installations: CAP zips (or single CAP XML files) dropped into a folder instead of fetched.
// The newest zip is the snapshot in force; loose XML files are added to it. [docs/dwd.md Warnings]
import fs from 'node:fs/promises';
import path from 'node:path';

export interface DroppedFiles {
  /** name + size + mtime of every file read: unchanged when equal to the previous look */
  signature: string;
  zip?: Uint8Array;
  xml: { name: string; xml: string }[];
}

const MAX_FILE_BYTES = 64 * 1024 * 1024;
const MAX_XML_FILES = 5000;

export async function readDropFolder(dir: string): Promise<DroppedFiles> {
  const names = await fs.readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  const stats = await Promise.all(names.map(async (n) => ({ n, s: await fs.stat(path.join(dir, n)).catch(() => undefined) })));
  const files = stats.filter((x) => x.s?.isFile() && x.s.size <= MAX_FILE_BYTES) as { n: string; s: import('node:fs').Stats }[];
  const zips = files.filter((f) => f.n.toLowerCase().endsWith('.zip')).sort((a, b) => b.s.mtimeMs - a.s.mtimeMs || b.n.localeCompare(a.n));
  const xmls = files.filter((f) => f.n.toLowerCase().endsWith('.xml')).slice(0, MAX_XML_FILES);
  const used = [...zips.slice(0, 1), ...xmls];
  const signature = used.map((f) => `${f.n}:${f.s.size}:${f.s.mtimeMs}`).join('|');
  return {
    signature,
    zip: zips[0] ? new Uint8Array(await fs.readFile(path.join(dir, zips[0].n))) : undefined,
    xml: await Promise.all(xmls.map(async (f) => ({ name: f.n, xml: await fs.readFile(path.join(dir, f.n), 'utf8') }))),
  };
}
