// KOSTRA-DWD-2020 depth tables (docs/reference/domain.md §3.2) and a CSV loader for any cell.
// A table maps return period T [a] → duration D [min] → depth hN [mm].
import { readFileSync } from 'node:fs';

export type KostraTable = Record<number, Record<number, number>>;

const D_117111 = [5, 10, 15, 20, 30, 45, 60, 180];
const COLS_117111: Record<number, number[]> = {
  1: [7.0, 8.9, 10.1, 11.0, 12.4, 13.8, 14.9, 19.7],
  2: [8.8, 11.3, 12.8, 13.9, 15.6, 17.4, 18.8, 24.9],
  3: [10.0, 12.7, 14.4, 15.7, 17.6, 19.6, 21.1, 28.0],
  5: [11.4, 14.6, 16.5, 18.0, 20.2, 22.5, 24.3, 32.2],
  10: [13.6, 17.3, 19.6, 21.4, 23.9, 26.7, 28.8, 38.2],
  20: [15.8, 20.1, 22.8, 24.8, 27.8, 31.0, 33.5, 44.4],
  30: [17.2, 21.9, 24.9, 27.1, 30.4, 33.9, 36.6, 48.4],
};

function fromColumns(durations: number[], cols: Record<number, number[]>): KostraTable {
  const t: KostraTable = {};
  for (const [T, depths] of Object.entries(cols)) {
    t[Number(T)] = Object.fromEntries(durations.map((d, i) => [d, depths[i]]));
  }
  return t;
}

const cell117111 = fromColumns(D_117111, COLS_117111);
cell117111[100] = { 240: 66 }; // the only T=100 value published for this cell (S4)

export const BUILTIN_CELLS: Record<string, KostraTable> = {
  '117111': cell117111,
  // Berlin, secondary source (S5): 60 min and 24 h only.
  berlin: fromColumns([60, 1440], { 1: [14.8, 30.9], 10: [29.9, 62.7], 100: [48.9, 102.6] }),
};

/** CSV with header `D_min,T1,T2,…` (T columns may be any of KOSTRA's 1,2,3,5,10,20,30,50,100). */
export function parseKostraCsv(text: string, source = 'KOSTRA CSV'): KostraTable {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (lines.length < 2) throw new Error(`${source}: needs a header and at least one row`);
  const sep = lines[0].includes(';') ? ';' : ',';
  const header = lines[0].split(sep).map((h) => h.trim());
  if (!/^d(_?min)?$/i.test(header[0])) throw new Error(`${source}: first column must be D_min, got "${header[0]}"`);
  const periods = header.slice(1).map((h) => {
    const m = /^T_?(\d+)(a)?$/i.exec(h);
    if (!m) throw new Error(`${source}: column "${h}" is not a return period like T10`);
    return Number(m[1]);
  });
  const table: KostraTable = Object.fromEntries(periods.map((T) => [T, {}]));
  for (const [i, line] of lines.slice(1).entries()) {
    const cells = line.split(sep).map((c) => c.trim().replace(',', '.'));
    const d = Number(cells[0]);
    if (!Number.isFinite(d) || d <= 0) throw new Error(`${source}: row ${i + 2}: bad duration "${cells[0]}"`);
    periods.forEach((T, j) => {
      if (cells[j + 1] === undefined || cells[j + 1] === '') return;
      const v = Number(cells[j + 1]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${source}: row ${i + 2}: bad depth "${cells[j + 1]}" for T${T}`);
      table[T][d] = v;
    });
  }
  return table;
}

export function loadKostraCsv(path: string): KostraTable {
  return parseKostraCsv(readFileSync(path, 'utf8'), path);
}

/**
 * Cumulative depths hN at every 5-min step up to D. Between published durations the increment is split
 * evenly over the 5-min blocks, as the reference implementation does (docs/reference/domain.md §3.3 step 2).
 */
export function depthsEvery5Min(table: KostraTable, T: number, D: number, cellName = 'table'): number[] {
  const col = table[T];
  if (!col) throw new Error(`KOSTRA ${cellName} has no return period T=${T}; available: ${Object.keys(table).join(', ')}`);
  const known = Object.keys(col)
    .map(Number)
    .sort((a, b) => a - b);
  const lo = known[0];
  const hi = known[known.length - 1];
  if (D % 5 !== 0) throw new Error(`duration ${D} min is not a multiple of 5 min`);
  // Interpolating below the shortest published duration would invent a depth the source does not give.
  if (D < lo || D > hi) {
    throw new Error(`KOSTRA ${cellName} T=${T} covers D=${lo}..${hi} min (published: ${known.join(', ')}); D=${D} is outside`);
  }
  const pts: Array<[number, number]> = [[0, 0], ...known.map((d): [number, number] => [d, col[d]])];
  const at = (d: number): number => {
    for (let i = 1; i < pts.length; i++) {
      const [d1, h1] = pts[i];
      if (d <= d1) {
        const [d0, h0] = pts[i - 1];
        return h0 + ((h1 - h0) * (d - d0)) / (d1 - d0);
      }
    }
    return pts[pts.length - 1][1];
  };
  const out: number[] = [];
  for (let d = 5; d <= D; d += 5) out.push(at(d));
  return out;
}
