// Every vendor example frame [docs/reference/lorawan.md 4, vectors/*.json] must decode to the vendor's own values,
// converted to canonical metrics. The conversions below restate the vendor units, not our decoder.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeBuiltin } from './index.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const VECTOR_DIR = path.resolve(projectRoot, 'test/fixtures/vectors');

interface Vector {
  fPort: number;
  bytesHex: string;
  expected: { data?: Record<string, unknown>; errors?: string[] };
  source: string;
  description: string;
  note?: string;
}
type Canon = Record<string, number>;
type Data = Record<string, any>;

const dl = (d: Data, key: string) => (d[key] === undefined ? undefined : Number(d[key].value));
const put = (out: Canon, key: string, v: unknown) => {
  if (v !== undefined && v !== null) out[key] = Number(v);
};

function decentlab(d: Data): Canon {
  const out: Canon = {};
  put(out, 'battery_v', dl(d, 'battery_voltage'));
  put(out, 'distance_mm', dl(d, 'distance')); // unit mm
  put(out, 'pressure_bar', dl(d, 'pressure')); // unit bar
  put(out, 'temperature_c', dl(d, 'temperature') ?? dl(d, 'air_temperature'));
  put(out, 'rain_mm', dl(d, 'precipitation')); // unit mm, per measurement interval
  return out;
}

// Vendor file → [our model, converter from the vendor's decoded data to canonical metrics]
const MODELS: Record<string, [string, (d: Data) => Canon]> = {
  'decentlab-dl-mbx': ['decentlab-dl-mbx', decentlab],
  'decentlab-dl-pr26': ['decentlab-dl-pr26', decentlab],
  'decentlab-dl-atm41': ['decentlab-dl-atm41', decentlab],
  'dragino-ldds75': [
    'dragino-ldds75',
    (d) => {
      const out: Canon = {};
      put(out, 'battery_v', d.Bat); // V
      if (typeof d.Distance === 'string' && d.Distance.endsWith(' mm')) put(out, 'distance_mm', parseFloat(d.Distance));
      // "0.00" is what the vendor prints when no DS18B20 is fitted; we leave temperature out then.
      if (d.TempC_DS18B20 !== undefined && Number(d.TempC_DS18B20) !== 0) put(out, 'temperature_c', d.TempC_DS18B20);
      return out;
    },
  ],
  'milesight-em310-udl': [
    'milesight-em310-udl',
    (d) => ({ battery_pct: d.battery, distance_mm: d.distance }), // % and mm
  ],
  'milesight-em500-udl': [
    // The example's 30 is the raw word; the same-commit decoder reports it /1000 as metres (0.03 m = 30 mm).
    'milesight-em500-udl',
    (d) => ({ battery_pct: d.battery, distance_mm: d.distance }),
  ],
  'elsys-elt-2': [
    'elsys-elt',
    (d) => {
      const out: Canon = {};
      put(out, 'temperature_c', d.temperature);
      put(out, 'x_humidity_pct', d.humidity);
      put(out, 'x_air_pressure', d.pressure);
      put(out, 'distance_mm', d.distance);
      put(out, 'battery_v', d.vdd === undefined ? undefined : d.vdd / 1000);
      return out;
    },
  ],
  'sensecap-s2120': [
    'sensecap-s2120',
    (d) => {
      const ids: Record<string, string> = {
        '4097': 'temperature_c',
        '4098': 'x_humidity_pct',
      };
      const out: Canon = {};
      for (const m of d.messages ?? []) {
        if (m.type === 'upload_battery') put(out, 'battery_pct', m.battery);
        if (m.type === 'report_telemetry' && ids[String(m.measurementId)]) put(out, ids[String(m.measurementId)], m.measurementValue);
      }
      return out;
    },
  ],
};

const INVALID_NOTE = /not valid|invalid|template/i;
const files = readdirSync(VECTOR_DIR).filter((f) => MODELS[f.replace(/\.json$/, '')]);

describe('vendor vectors', () => {
  it('finds the vendor vector files for every built-in model with examples', () => {
    expect(files.length).toBe(Object.keys(MODELS).length);
  });

  for (const file of files) {
    const [model, toCanonical] = MODELS[file.replace(/\.json$/, '')];
    const vectors: Vector[] = JSON.parse(readFileSync(path.join(VECTOR_DIR, file), 'utf8'));
    describe(`${file} → ${model}`, () => {
      vectors.forEach((v, i) => {
        const name = `#${i} ${v.description} (fPort ${v.fPort}, ${v.bytesHex})`;
        if (v.note && INVALID_NOTE.test(v.note)) {
          it.skip(`${name} — skipped: the vendor note marks this example as not valid for the device`, () => {});
          return;
        }
        const result = decodeBuiltin(model, {
          bytes: Buffer.from(v.bytesHex, 'hex'),
          fPort: v.fPort,
          params: {},
        });
        if (v.expected.errors) {
          it(`${name} is rejected like the vendor's "${v.expected.errors.join(', ')}"`, () => {
            expect(result.ok).toBe(false);
            if (!result.ok && /fport/i.test(v.expected.errors!.join())) expect(result.reason).toBe('wrong_fport');
          });
          return;
        }
        const want = toCanonical(v.expected.data!);
        if (Object.keys(want).length === 0) {
          // e.g. the legacy LDDS75 "No Sensor" answer for a 4-byte frame: the vendor yields no value, nor may we.
          it(`${name} yields no canonical reading, like the vendor`, () => {
            const canonical = result.ok ? Object.keys(result.values).filter((k) => !k.startsWith('x_')) : [];
            expect(canonical).toEqual([]);
          });
          return;
        }
        it(`${name} decodes to ${JSON.stringify(want)}`, () => {
          expect(result.ok).toBe(true);
          if (!result.ok) return;
          for (const [metric, value] of Object.entries(want)) expect(result.values[metric], metric).toBeCloseTo(value, 6);
          // no canonical metric the vendor did not report (x_ extras are free)
          const extra = Object.keys(result.values).filter((k) => !k.startsWith('x_') && !(k in want));
          expect(extra).toEqual([]);
        });
      });
    });
  }
});
