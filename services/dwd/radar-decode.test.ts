// The real DWD RV samples (test/fixtures/dwd, CC BY 4.0, Datenbasis: Deutscher Wetterdienst): the HDF5 and the
// RADOLAN binary decode onto the same grid (the binary's row 0 is south), Fulda lies in row 652, col 519, and
// member _L is the 5-min sum ending at T + L. [docs/dwd.md Radar nowcast]
import fs from 'node:fs';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { areaMean, buildMask, cellOf, RunAccumulator } from './nowcast.ts';
import { bunzip2, COLS, decodeHdf5, decodeRadolan, leadOf, type RadarGrid, ROWS, untar } from './radar-decode.ts';

const FIX = path.resolve(import.meta.dirname, '../../test/fixtures/dwd');
const read = (n: string) => new Uint8Array(fs.readFileSync(path.join(FIX, n)));
const FULDA = { row: 652, col: 519 };
// a catchment around Fulda (about 8 × 6 km)
const fuldaCatchment = {
  id: 'fulda',
  polygons: [
    [
      [9.62, 50.53],
      [9.73, 50.53],
      [9.73, 50.58],
      [9.62, 50.58],
      [9.62, 50.53],
    ] as [number, number][],
  ],
  bufferM: 0,
  thresholdMm: 20,
};

/** A RADOLAN DE1200 binary holding `g` (rows written south first, as the DWD does), 0.01 mm units. */
function toRadolan(g: RadarGrid): Uint8Array {
  const header = `RV081330100000523BY   2640195VS 5SW P300004HPR E-02INT   5GP1200x1100VV ${String(g.leadMin).padStart(3, '0')}MF 00000008MS 10<x>\x03`;
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(h.length + ROWS * COLS * 2);
  out.set(h);
  const view = new DataView(out.buffer, h.length);
  for (let row = 0; row < ROWS; row++)
    for (let c = 0; c < COLS; c++) {
      const v = g.mm[row * COLS + c];
      const raw = Number.isNaN(v) ? 0x2000 | 2500 : Math.min(0x0fff, Math.round(v * 100));
      view.setUint16(((ROWS - 1 - row) * COLS + c) * 2, raw, true);
    }
  return out;
}

describe('RV nowcast samples', () => {
  let h5: Map<string, Uint8Array>;
  let bin: Map<string, Uint8Array>;
  let g050: RadarGrid;
  beforeAll(async () => {
    h5 = untar(read('composite_rv_20250923_0855.tar'));
    bin = untar(bunzip2(read('DE1200_RV2305081330.tar.bz2')));
    g050 = await decodeHdf5(h5.get('composite_rv_20250923_0855_050-hd5') as Uint8Array, 50);
  });

  it('each container holds the analysis and the 50-min member', () => {
    expect([...h5.keys()].map(leadOf)).toEqual([0, 50]);
    expect([...bin.keys()].map(leadOf)).toEqual([0, 50]);
  });

  it('Fulda (9.6753 E, 50.5558 N) is row 652, col 519 of the grid', () => {
    expect(cellOf(9.6753, 50.5558)).toEqual(FULDA);
  });

  it('member _050 of run 08:55 is the 5-min sum 09:40–09:45 (ending at T + 50 min)', async () => {
    const { FS } = await h5wasm.ready;
    FS.writeFile('/m050.h5', h5.get('composite_rv_20250923_0855_050-hd5') as Uint8Array);
    const file = new h5wasm.File('/m050.h5', 'r');
    const what = file.get('dataset1/what') as import('h5wasm/node').Group;
    expect([what.attrs.starttime.value, what.attrs.endtime.value]).toEqual(['094000', '094500']);
    file.close();
  });

  it('the binary, row-flipped, has the HDF5 grid: the no-data masks agree (far less when unflipped)', () => {
    const b = decodeRadolan(bin.get('DE1200_RV2305081330_050') as Uint8Array);
    expect(b.leadMin).toBe(50);
    let same = 0;
    let sameUnflipped = 0;
    for (let row = 0; row < ROWS; row++)
      for (let c = 0; c < COLS; c++) {
        const hd = Number.isNaN(g050.mm[row * COLS + c]);
        if (hd === Number.isNaN(b.mm[row * COLS + c])) same++;
        if (hd === Number.isNaN(b.mm[(ROWS - 1 - row) * COLS + c])) sameUnflipped++;
      }
    // two runs two years apart: the radar coverage changed a little, the grid did not
    expect(same / (ROWS * COLS)).toBeGreaterThan(0.97);
    expect(sameUnflipped / (ROWS * COLS)).toBeLessThan(same / (ROWS * COLS) - 0.04);
  });

  it('the same rain written as a RADOLAN binary decodes to the same Fulda cell and catchment sum as the HDF5', async () => {
    const g000 = await decodeHdf5(h5.get('composite_rv_20250923_0855_000-hd5') as Uint8Array, 0);
    // rain somewhere over Germany in the real analysis, rounded to the binary's 0.01 mm
    const b = decodeRadolan(toRadolan(g000), 0);
    const i = FULDA.row * COLS + FULDA.col;
    expect(b.mm[i]).toBeCloseTo(g000.mm[i], 2);
    const mask = buildMask(fuldaCatchment);
    expect(mask.cells).toContain(i);
    expect(areaMean(b, mask).mm).toBeCloseTo(areaMean(g000, mask).mm, 2);
    let wet = 0;
    for (let k = 0; k < g000.mm.length; k++) if (g000.mm[k] > 0) wet++;
    expect(wet).toBeGreaterThan(1000); // the sample is not an empty grid
  });

  it('a run adds members 005…060 for the next hour; the analysis _000 is not forecast', () => {
    const mask = buildMask(fuldaCatchment);
    const acc = new RunAccumulator([mask]);
    const grid = (lead: number, mm: number): RadarGrid => ({ mm: new Float32Array(ROWS * COLS).fill(mm), leadMin: lead, projdef: '' });
    acc.add(grid(0, 50));
    for (let l = 5; l <= 120; l += 5) acc.add(grid(l, l <= 60 ? 2 : 0.5));
    expect(acc.result()[0]).toMatchObject({
      forecast_30min_mm: 12,
      forecast_60min_mm: 24,
      forecast_120min_mm: 30,
      forecast_peak_mm_h: 24,
      forecast_minutes_to_threshold: 50,
      forecast_missing_pct: 0,
    });
  });
});
