// Synthetic DWD RV runs (HDF5 members in a tar, as composite_rv_YYYYMMDD_HHMM.tar) for the simulator, the tests
// and the bench: rain given as a function of the grid cell and the lead time, written with h5wasm like the real
// files (ODIM_H5 attributes, uint32, gain 0.001, nodata 4294967295, gzip). [docs/dwd.md Radar nowcast]
import h5wasm from 'h5wasm/node';
import { COLS, DE1200_PROJ, ROWS } from '../../services/dwd/radar-decode.ts';

/** mm in the 5 minutes ending at T + lead, for cell (row from north, col); NaN = no data */
export type RainField = (row: number, col: number, leadMin: number) => number;

let n = 0;

export async function rvMemberHdf5(rain: RainField, leadMin: number, box?: { r0: number; r1: number; c0: number; c1: number }): Promise<Uint8Array> {
  const { FS } = await h5wasm.ready;
  const file = `/synthetic-${process.pid}-${++n}.h5`;
  const raw = new Uint32Array(ROWS * COLS);
  const b = box ?? { r0: 0, r1: ROWS - 1, c0: 0, c1: COLS - 1 };
  for (let r = b.r0; r <= b.r1; r++)
    for (let c = b.c0; c <= b.c1; c++) {
      const v = rain(r, c, leadMin);
      raw[r * COLS + c] = Number.isNaN(v) ? 4294967295 : v <= 0 ? 0 : Math.round((v + 0.001) / 0.001);
    }
  const f = new h5wasm.File(file, 'w');
  f.create_group('where');
  (f.get('where') as import('h5wasm/node').Group).create_attribute('projdef', DE1200_PROJ);
  f.create_group('dataset1');
  f.create_group('dataset1/data1');
  f.create_group('dataset1/data1/what');
  const what = f.get('dataset1/data1/what') as import('h5wasm/node').Group;
  what.create_attribute('gain', 0.001);
  what.create_attribute('offset', -0.001);
  what.create_attribute('nodata', 4294967295);
  what.create_attribute('undetect', 0);
  what.create_attribute('quantity', 'ACRR');
  f.create_dataset({ name: 'dataset1/data1/data', data: raw, shape: [ROWS, COLS], dtype: '<I', chunks: [100, 1100], compression: 6 });
  f.close();
  const bytes = FS.readFile(file) as Uint8Array;
  FS.unlink(file);
  return bytes;
}

/** A ustar archive of the given files. */
export function tar(files: { name: string; data: Uint8Array }[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const f of files) {
    const h = new Uint8Array(512);
    const put = (s: string, at: number) => h.set(new TextEncoder().encode(s), at);
    put(f.name, 0);
    put('0000644\0', 100);
    put('0000000\0', 108);
    put('0000000\0', 116);
    put(`${f.data.length.toString(8).padStart(11, '0')}\0`, 124);
    put(
      `${Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
    );
    put('        ', 148);
    h[156] = 0x30;
    put('ustar\0', 257);
    put('00', 263);
    const sum = h.reduce((s, x) => s + x, 0);
    put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, f.data, new Uint8Array((512 - (f.data.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((s, b) => s + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

const pad = (x: number) => String(x).padStart(2, '0');
export function runStamp(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}_${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
}

/** A whole RV run (members 000…120) as the DWD's tar. `box` limits where rain is computed (speed). */
export async function rvRunTar(t: number, rain: RainField, box?: { r0: number; r1: number; c0: number; c1: number }): Promise<Uint8Array> {
  const files = [];
  for (let lead = 0; lead <= 120; lead += 5)
    files.push({ name: `composite_rv_${runStamp(t)}_${String(lead).padStart(3, '0')}-hd5`, data: await rvMemberHdf5(rain, lead, box) });
  return tar(files);
}
