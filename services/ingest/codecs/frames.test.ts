// Frames built from the documented layouts for models without a vendor example, plus error cases.
import { describe, expect, it } from 'vitest';
import { BUILTIN_MODELS, type DecodeResult, decodeBuiltin, isKnownModel } from './index.ts';
import { crc16Kermit } from './sensecap.ts';

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const decode = (model: string, fPort: number, bytes: Buffer, params: Record<string, unknown> = {}) => decodeBuiltin(model, { bytes, fPort, params });
function values(r: DecodeResult): Record<string, number> {
  if (!r.ok) throw new Error(`expected ok, got ${r.reason}: ${r.message}`);
  return r.values;
}
const u16 = (n: number) => n.toString(16).padStart(4, '0');

describe('model table', () => {
  it('lists exactly the raw-byte models of docs/topics.md', () => {
    expect([...BUILTIN_MODELS].sort()).toEqual(
      [
        'decentlab-dl-mbx',
        'decentlab-dl-pr26',
        'decentlab-dl-pr36',
        'decentlab-dl-atm41',
        'dragino-ldds75',
        'dragino-ldds20',
        'dragino-sn50v3-count',
        'milesight-em310-udl',
        'milesight-em500-udl',
        'elsys-elt',
        'sensecap-s2120',
      ].sort(),
    );
  });
  it('knows generic and js-codec but not made-up or prototype names', () => {
    expect(isKnownModel('generic')).toBe(true);
    expect(isKnownModel('js-codec')).toBe(true);
    expect(isKnownModel('dragino-ldds75')).toBe(true);
    expect(isKnownModel('dragino-ldds99')).toBe(false);
    expect(isKnownModel('toString')).toBe(false);
  });
  it('answers an unknown model with codec_error instead of throwing', () => {
    expect(decode('constructor', 1, hex('00'))).toMatchObject({
      ok: false,
      reason: 'codec_error',
    });
  });
});

describe('decentlab', () => {
  it('DL-PR36 with kp 8192: 1.5 bar, 20.5 °C, 3.1 V', () => {
    // w0 = 32768 + 1.5 × 8192 = 45056; w1 = 32768 + 20.5 × 256 = 38016 [docs/reference/lorawan.md 4.1 DL-PR36]
    const frame = hex(`02 0001 0003 ${u16(45056)} ${u16(38016)} ${u16(3100)}`);
    expect(values(decode('decentlab-dl-pr36', 1, frame))).toEqual({
      pressure_bar: 1.5,
      temperature_c: 20.5,
      battery_v: 3.1,
    });
  });
  it('DL-PR36 honours a different kp param', () => {
    const frame = hex(`02 0001 0003 ${u16(32768 + 4096)} ${u16(32768)} ${u16(3100)}`);
    expect(values(decode('decentlab-dl-pr36', 1, frame, { kp: 4096 })).pressure_bar).toBe(1);
  });
  it('DL-PR26 scales by the pMin/pMax range variant', () => {
    // w0 = 16384 + 32768/2 → half of the range: 0..10 bar gives 5 bar
    const frame = hex(`02 0167 0003 ${u16(32768)} 6017 0C7F`);
    expect(values(decode('decentlab-dl-pr26', 1, frame, { pMin: 0, pMax: 10 })).pressure_bar).toBe(5);
    expect(values(decode('decentlab-dl-pr26', 1, frame)).pressure_bar).toBe(0.5);
  });
  it('DL-ATM41 precipitation word is rain_mm per interval', () => {
    const words = Array.from({ length: 17 }, (_, i) => u16(i === 1 ? 32768 + 1200 : 32768)).join('');
    expect(values(decode('decentlab-dl-atm41', 1, hex(`02 035A 0003 ${words} 0BF5`))).rain_mm).toBe(1.2);
  });
  it('DL-MBX with zero valid samples gives no distance but keeps the battery', () => {
    const v = values(decode('decentlab-dl-mbx', 1, hex('02012F0003 04D2 0000 0BB1')));
    expect(v.distance_mm).toBeUndefined();
    expect(v.battery_v).toBe(2.993);
  });
  it.each([
    ['truncated mid-group', 1, '02012F000304D200', 'decode_error', /truncated/],
    ['header only', 1, '02012F', 'decode_error', /truncated/],
    ['protocol version 3', 1, '03012F000304D200010BB1', 'decode_error', /protocol version 3/],
    ['unknown sensor flag', 1, '02012F000704D200010BB1', 'decode_error', /flags/],
    ['wrong fPort', 2, '02012F000304D200010BB1', 'wrong_fport', /fPort 2/],
  ])('DL-MBX rejects %s', (_n, fPort, h, reason, msg) => {
    const r = decode('decentlab-dl-mbx', fPort, hex(h));
    expect(r).toMatchObject({ ok: false, reason });
    expect(r.ok ? '' : r.message).toMatch(msg);
  });
});

describe('dragino LDDS75 / LDDS20', () => {
  it('LDDS20 uses the LDDS75 layout, incl. the DS18B20 temperature and the battery flag bits', () => {
    // battery 0xC D3B with the top flag bits set, 1500 mm, temp −2.5 °C (0xFFE7)
    const v = values(decode('dragino-ldds20', 2, hex('CD3B 05DC 00 FFE7 01')));
    expect(v).toEqual({
      battery_v: 3.387,
      distance_mm: 1500,
      temperature_c: -2.5,
    });
  });
  it.each([
    ['no sensor', '0000', 1],
    ['invalid reading', '0014', 2],
  ])('distance %s → no distance_mm, fault code kept, battery kept', (_n, dist, fault) => {
    const v = values(decode('dragino-ldds20', 2, hex(`0D3B ${dist} 00 0000 01`)));
    expect(v.distance_mm).toBeUndefined();
    expect(v.x_distance_fault).toBe(fault);
    expect(v.battery_v).toBe(3.387);
  });
  it('rejects truncated frames and other ports', () => {
    expect(decode('dragino-ldds75', 2, hex('0D3B0AEF0000'))).toMatchObject({
      ok: false,
      reason: 'decode_error',
    });
    expect(decode('dragino-ldds20', 5, hex('0D3B0AEF00000001'))).toMatchObject({
      ok: false,
      reason: 'wrong_fport',
    });
  });
});

describe('dragino SN50v3-LB count mode', () => {
  // battery 3.3 V, temp 21.5 °C, ADC 0, mode byte 0x14 = mode 5 << 2, count 123456
  const frame = hex(`0CE4 00D7 0000 14 ${(123456).toString(16).padStart(8, '0')}`);
  it('puts the cumulative pulse count in counter, not in values', () => {
    const r = decode('dragino-sn50v3-count', 2, frame);
    expect(r).toEqual({
      ok: true,
      values: { battery_v: 3.3, temperature_c: 21.5 },
      counter: { count: 123456, bits: 32 },
    });
  });
  it('counts up to the full uint32 range and drops the 0x7FFF "no probe" temperature', () => {
    const r = decode('dragino-sn50v3-count', 2, hex('0CE4 7FFF 0000 15 FFFFFFFE'));
    expect(r).toEqual({
      ok: true,
      values: { battery_v: 3.3 },
      counter: { count: 4294967294, bits: 32 },
    });
  });
  it('refuses a frame in another working mode (the template vectors decode to mode 3)', () => {
    const r = decode('dragino-sn50v3-count', 2, hex('0CE4 00D7 0000 0C 0001E240'));
    expect(r).toMatchObject({ ok: false, reason: 'decode_error' });
    expect(r.ok ? '' : r.message).toMatch(/mode 3/);
  });
  it('rejects a count mode frame cut short', () => {
    expect(decode('dragino-sn50v3-count', 2, frame.subarray(0, 9))).toMatchObject({
      ok: false,
      reason: 'decode_error',
    });
  });
});

describe('milesight', () => {
  it('EM500-UDL distance is int16: negative raw words stay negative mm', () => {
    expect(values(decode('milesight-em500-udl', 85, hex('0382 FEFF'))).distance_mm).toBe(-2);
  });
  it('EM310-UDL skips device-info channels in the same frame', () => {
    const v = values(decode('milesight-em310-udl', 85, hex('FF0101 FF160123456789ABCDEF 0175 64 0382 D007')));
    expect(v).toEqual({ battery_pct: 100, distance_mm: 2000 });
  });
  it.each([
    ['truncated value', '01755C0382D0', 'decode_error'],
    ['unknown channel', '01755C09990000', 'decode_error'],
    ['wrong fPort', '01755C03824408', 'wrong_fport'],
  ])('EM310-UDL rejects %s', (_n, h, reason) => {
    expect(decode('milesight-em310-udl', reason === 'wrong_fport' ? 1 : 85, hex(h))).toMatchObject({
      ok: false,
      reason,
    });
  });
});

describe('elsys', () => {
  it('absolute pulse count (0x0B) becomes a 32-bit counter; vdd and ultrasonic distance map too', () => {
    const r = decode('elsys-elt', 5, hex('0B 0001E240 07 0E10 0E 0BB8'));
    expect(r).toEqual({
      ok: true,
      values: { battery_v: 3.6, distance_mm: 3000 },
      counter: { count: 123456, bits: 32 },
    });
  });
  it('relative pulse count (0x0A) becomes a relative 16-bit counter', () => {
    const r = decode('elsys-elt', 5, hex('0100E2 0A 0007'));
    expect(r).toEqual({
      ok: true,
      values: { temperature_c: 22.6 },
      counter: { count: 7, bits: 16, relative: true },
    });
  });
  it('prefers the absolute count when both are present (survives lost uplinks)', () => {
    const r = decode('elsys-elt', 5, hex('0A0007 0B00000100'));
    expect(r.ok && r.counter).toEqual({ count: 256, bits: 32 });
  });
  it('stops at an unknown type like elsys.js, keeping the records before it', () => {
    expect(decode('elsys-elt', 5, hex('0100E2 FE0102'))).toEqual({ ok: true, values: { temperature_c: 22.6 } });
  });
  it('rejects a truncated record and a frame of unknown types', () => {
    expect(decode('elsys-elt', 5, hex('0B0001E2'))).toMatchObject({
      ok: false,
      reason: 'decode_error',
    });
    expect(decode('elsys-elt', 5, hex('FE0102'))).toMatchObject({
      ok: false,
      reason: 'decode_error',
    });
  });
});

describe('sensecap S2120', () => {
  it('packet-ID format: temperature, battery and the rain intensity kept as x_ (not rain_mm)', () => {
    // 0x01: 25.3 °C, 60 %, 1000 lx, UV 2.0, wind 1.5 m/s; 0x02: 180°, 2.5 mm/h, 10132 × 10 Pa; 0x03: 87 %
    const r = decode('sensecap-s2120', 3, hex('01 00FD 3C 000003E8 14 000F  02 00B4 000009C4 2794  03 57'));
    expect(r).toMatchObject({
      ok: true,
      values: {
        temperature_c: 25.3,
        battery_pct: 87,
        x_rain_intensity_mm_h: 2.5,
        x_air_pressure_pa: 101320,
      },
    });
    expect(r.ok && r.values.rain_mm).toBeUndefined();
    expect(r.ok && r.counter).toBeUndefined();
  });
  it('V2 frame: accumulated rainfall (4213) becomes a counter in 0.001 mm units', () => {
    // ch 1 | id 4213 LE (0x1075) | 12.345 mm as int32 LE, then CRC-16/KERMIT LE
    const body = hex('01 7510 39300000  01 0110 98530000');
    const crc = Buffer.alloc(2);
    crc.writeUInt16LE(crc16Kermit(body));
    const r = decode('sensecap-s2120', 3, Buffer.concat([body, crc]));
    expect(r).toEqual({
      ok: true,
      values: { temperature_c: 21.4 },
      counter: { count: 12345, bits: 32, mmPerCount: 0.001 },
    });
  });
  it('a V2 frame with a corrupted CRC is not trusted', () => {
    expect(decode('sensecap-s2120', 1, hex('01011098530000010210A87A0000AF52'))).toMatchObject({ ok: false });
  });
  it('rejects a truncated packet and an empty frame', () => {
    expect(decode('sensecap-s2120', 3, hex('02 00B4 0000'))).toMatchObject({
      ok: false,
      reason: 'decode_error',
    });
    expect(decode('sensecap-s2120', 3, Buffer.alloc(0))).toMatchObject({
      ok: false,
      reason: 'decode_error',
    });
  });
});
