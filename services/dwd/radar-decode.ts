// Decodes one DWD RV nowcast member to a grid of mm in 5 min, row 0 = north (the HDF5 order), from either
// format: ODIM_H5 (HDF5, read with h5wasm) or the RADOLAN binary DE1200 (row 0 = south in the file, flipped
// here). [docs/dwd.md Radar nowcast] [docs/reference/dwd-inputs.md §2.3, §2.4]
import h5wasm, { type Dataset, type Group } from 'h5wasm/node';
import Bunzip from 'seek-bzip';

export const ROWS = 1200;
export const COLS = 1100;
/** [DWD DE1200 / RV ODIM_H5 /where/projdef] polar stereographic on the WGS84 ellipsoid */
export const DE1200_PROJ =
  '+proj=stere +lat_ts=60 +lat_0=90 +lon_0=10 +x_0=543196.83521776402 +y_0=3622588.8619310022 +units=m +a=6378137 +b=6356752.3142451802 +no_defs';

export interface RadarGrid {
  /** mm in the member's 5 minutes; NaN = no data; index row * COLS + col, row 0 = north */
  mm: Float32Array;
  /** lead in minutes (member _L: the 5-min sum ending at T + L) */
  leadMin: number;
  projdef: string;
}

/** Members of an uncompressed tar (ustar), name → bytes. */
export function untar(bytes: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let at = 0;
  while (at + 512 <= bytes.length) {
    const header = bytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = new TextDecoder().decode(header.subarray(0, 100)).replace(/\0.*$/s, '');
    const size = Number.parseInt(new TextDecoder().decode(header.subarray(124, 136)).replace(/\0.*$/s, '').trim() || '0', 8);
    const type = header[156];
    if (!Number.isFinite(size) || size < 0 || at + 512 + size > bytes.length) throw new Error(`broken tar entry ${JSON.stringify(name)}`);
    if (type === 0 || type === 0x30) out.set(name, bytes.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

export const bunzip2 = (bytes: Uint8Array): Uint8Array => new Uint8Array(Bunzip.decode(Buffer.from(bytes)));

/** The lead in minutes from a member name: `…_050-hd5` or `DE1200_RV2305081330_050`. */
export function leadOf(name: string): number | undefined {
  const m = /_(\d{3})(?:-hd5)?$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

let counter = 0;
const h5 = h5wasm.ready;

/** ODIM_H5: mm = raw · gain + offset [ODIM_H5 2.3]; raw 0 = undetect (0 mm), raw nodata = missing. */
export async function decodeHdf5(bytes: Uint8Array, leadMin: number): Promise<RadarGrid> {
  const { FS } = await h5;
  const file = `/rv-${process.pid}-${++counter}.h5`;
  FS.writeFile(file, bytes);
  const f = new h5wasm.File(file, 'r');
  try {
    const attr = (p: string, k: string) => (f.get(p) as Group | null)?.attrs[k]?.value;
    const projdef = String(attr('where', 'projdef') ?? DE1200_PROJ);
    const what = 'dataset1/data1/what';
    const gain = Number(attr(what, 'gain') ?? 0.001);
    const offset = Number(attr(what, 'offset') ?? 0);
    const nodata = Number(attr(what, 'nodata') ?? 4294967295);
    const undetect = Number(attr(what, 'undetect') ?? 0);
    const ds = f.get('dataset1/data1/data') as Dataset | null;
    if (!ds || ds.shape?.[0] !== ROWS || ds.shape?.[1] !== COLS) throw new Error(`not a DE1200 grid: shape ${JSON.stringify(ds?.shape)}`);
    const raw = ds.value as Uint32Array;
    const mm = new Float32Array(ROWS * COLS);
    for (let i = 0; i < mm.length; i++) {
      const r = raw[i];
      mm[i] = r === nodata ? Number.NaN : r === undetect ? 0 : Math.max(0, r * gain + offset);
    }
    return { mm, leadMin, projdef };
  } finally {
    f.close();
    FS.unlink(file);
  }
}

const NODATA = 0x2000;

/** RADOLAN binary (DE1200, format 5): ASCII header up to 0x03, then little-endian uint16; value = (raw & 0x0FFF)
 *  · 10^PR; flag 0x2000 = no data (missing); secondary (0x1000) and clutter (0x8000) keep their value, as wradlib
 *  does. Row 0 of the file is south. [docs/reference/dwd-inputs.md §2.4] */
export function decodeRadolan(bytes: Uint8Array, leadMin?: number): RadarGrid {
  const end = bytes.indexOf(0x03);
  if (end < 0 || end > 1024) throw new Error('no RADOLAN header');
  const header = new TextDecoder('latin1').decode(bytes.subarray(0, end));
  const gp = /GP\s*(\d+)x\s*(\d+)/.exec(header);
  if (!gp || Number(gp[1]) !== ROWS || Number(gp[2]) !== COLS) throw new Error(`not a DE1200 grid: ${gp?.[0] ?? 'no GP'}`);
  const pr = Number(/PR\s*E([-+]\d+)/.exec(header)?.[1] ?? -2);
  const vv = Number(/VV\s*(\d+)/.exec(header)?.[1] ?? leadMin ?? 0);
  const data = bytes.subarray(end + 1);
  if (data.length < ROWS * COLS * 2) throw new Error(`RADOLAN data too short: ${data.length} bytes`);
  const view = new DataView(data.buffer, data.byteOffset, ROWS * COLS * 2);
  const scale = 10 ** pr;
  const mm = new Float32Array(ROWS * COLS);
  for (let fileRow = 0; fileRow < ROWS; fileRow++) {
    const row = ROWS - 1 - fileRow; // [DWD RADOLAN] row 0 is south
    for (let c = 0; c < COLS; c++) {
      const raw = view.getUint16((fileRow * COLS + c) * 2, true);
      mm[row * COLS + c] = raw & NODATA ? Number.NaN : (raw & 0x0fff) * scale;
    }
  }
  return { mm, leadMin: leadMin ?? vv, projdef: DE1200_PROJ };
}
