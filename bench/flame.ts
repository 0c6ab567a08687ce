// npx tsx bench/flame.ts FILE.cpuprofile OUT.svg [title] — a flame graph (SVG) of a V8 CPU profile
// (node --cpu-prof, or npm run bench -- --cpu-prof DIR): one box per call path, its width the time sampled in it
// and below it; `(idle)` and `(program)` left out so the width is the work done. No dependencies.
import fs from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, out, title] = process.argv.slice(2);
if (!file || !out) {
  console.error('usage: npx tsx bench/flame.ts FILE.cpuprofile OUT.svg [title]');
  process.exit(2);
}
const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const skip = new Set(['(idle)', '(program)', '(garbage collector)']);
const total = new Map<number, number>();
const sum = (id: number): number => {
  const n = byId.get(id) as Node;
  if (skip.has(n.callFrame.functionName)) return 0;
  let t = self.get(id) ?? 0;
  for (const c of n.children ?? []) t += sum(c);
  total.set(id, t);
  return t;
};
const root = p.nodes[0];
const rootUs = (root.children ?? []).reduce((a, c) => a + sum(c), 0);
const gcUs = p.nodes.filter((n) => n.callFrame.functionName === '(garbage collector)').reduce((a, n) => a + (self.get(n.id) ?? 0), 0);
const W = 1600;
const H = 16;
const rects: string[] = [];
let depthMax = 0;
const label = (n: Node) => {
  const url = n.callFrame.url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\//, '')
    .replace(/.*\/(services|alerts|bench)\//, '$1/');
  return `${n.callFrame.functionName || '(anonymous)'}${url ? ` ${url}:${n.callFrame.lineNumber + 1}` : ''}`;
};
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const draw = (id: number, x: number, depth: number) => {
  const n = byId.get(id) as Node;
  const t = total.get(id) ?? 0;
  const w = (t / rootUs) * W;
  if (w < 0.5) return;
  depthMax = Math.max(depthMax, depth);
  const name = label(n);
  const hue = name.includes('services/') || name.includes('alerts/') ? 20 : name.startsWith('node:') || !name.includes(' ') ? 200 : 45;
  const pct = ((100 * t) / rootUs).toFixed(1);
  rects.push(
    `<g><title>${esc(name)} — ${(t / 1000).toFixed(0)} ms, ${pct} %</title><rect x="${x.toFixed(1)}" y="${depth}" width="${w.toFixed(1)}" height="${H - 1}" fill="hsl(${hue},70%,${60 + ((id * 7) % 20)}%)"/>` +
      (w > 40 ? `<text x="${(x + 3).toFixed(1)}" y="${depth + 11}" font-size="10">${esc(name.slice(0, Math.floor(w / 6)))}</text>` : '') +
      '</g>',
  );
  let cx = x;
  for (const c of n.children ?? []) {
    draw(c, cx, depth + H);
    cx += ((total.get(c) ?? 0) / rootUs) * W;
  }
};
let x = 0;
for (const c of root.children ?? []) {
  draw(c, x, 40);
  x += ((total.get(c) ?? 0) / rootUs) * W;
}
const height = depthMax + H + 50;
const head = `${title ?? file}: ${(rootUs / 1000).toFixed(0)} ms of work sampled (idle and program left out; GC ${(gcUs / 1000).toFixed(0)} ms). Orange: Regenwacht's code, blue: Node, yellow: packages.`;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" font-family="monospace"><rect width="100%" height="100%" fill="white"/><text x="4" y="20" font-size="13">${esc(head)}</text><g transform="translate(0,0)">${rects.join('')}</g></svg>\n`;
fs.writeFileSync(out, svg);
console.log(`${out}: ${rects.length} boxes, depth ${(depthMax - 40) / H + 1}`);
