// npx tsx bench/prof-top.ts FILE.cpuprofile [top=30] — self time of a V8 CPU profile (node --cpu-prof, or
// npm run bench -- --cpu-prof DIR) per package/file and per function, without a flame-graph viewer.
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: npx tsx bench/prof-top.ts FILE.cpuprofile [top]');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const fn = new Map<string, number>();
const pkg = new Map<string, number>();
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  const us = p.timeDeltas[i] ?? 0;
  total += us;
  const cf = (byId.get(p.samples[i]) as ProfileNode).callFrame;
  const url = cf.url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\//, 'nm/')
    .replace(`${process.cwd()}/`, '');
  const parts = url.split('/');
  const where = url.startsWith('nm/') ? parts.slice(0, parts[1]?.startsWith('@') ? 3 : 2).join('/') : url || cf.functionName;
  const name = `${cf.functionName || '(anonymous)'} ${url}${url ? `:${cf.lineNumber + 1}` : ''}`;
  fn.set(name, (fn.get(name) ?? 0) + us);
  pkg.set(where, (pkg.get(where) ?? 0) + us);
}
const show = (title: string, m: Map<string, number>) => {
  console.log(`--- ${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled (idle included)`);
show('self time by package or file', pkg);
show('self time by function', fn);
