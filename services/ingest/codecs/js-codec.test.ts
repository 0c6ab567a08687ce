import { describe, expect, it } from 'vitest';
import { CODEC_TIMEOUT_MS, mapDecodedObject, runJsCodec, validateFieldMap } from './js-codec.ts';

// A TTN-style codec in ES5, like the device repository ships them.
const LDDS_LIKE = `
function decodeUplink(input) {
  if (input.fPort !== 2) return { errors: ['unknown FPort'] };
  var bat = ((input.bytes[0] << 8) | input.bytes[1]) & 0x3fff;
  var dist = (input.bytes[2] << 8) | input.bytes[3];
  return { data: { Bat: (bat / 1000).toFixed(3) + ' V', distance: { value: dist, unit: 'mm' },
    year: input.recvTime.getUTCFullYear() } };
}`;
const MAP = { battery_v: 'Bat', distance_mm: 'distance.value' };
const frame = { bytes: Buffer.from('0D3B0AEF00000001', 'hex'), fPort: 2 };
const run = (body: string, map: Record<string, string> = { x_a: 'a' }) =>
  runJsCodec(`function decodeUplink(input) { ${body} }`, frame, map);

describe('runJsCodec', () => {
  it('decodes and maps unit-suffixed strings and {value} objects to canonical metrics', () => {
    expect(runJsCodec(LDDS_LIKE, frame, MAP)).toEqual({
      ok: true,
      values: { battery_v: 3.387, distance_mm: 2799 },
    });
  });
  it('passes fPort and recvTime as the TTN convention does', () => {
    const r = runJsCodec(LDDS_LIKE, { ...frame, recvTime: new Date('2031-05-01T00:00:00Z') }, { x_year: 'year' });
    expect(r).toEqual({ ok: true, values: { x_year: 2031 } });
  });
  it("turns the codec's own errors into decode_error", () => {
    const r = runJsCodec(LDDS_LIKE, { ...frame, fPort: 9 }, MAP);
    expect(r).toMatchObject({ ok: false, reason: 'decode_error' });
    expect(r.ok ? '' : r.message).toContain('unknown FPort');
  });
  it('stops an infinite loop with codec_timeout in about the time limit, and keeps working afterwards', () => {
    const started = performance.now();
    const r = run('for (;;) {}');
    const took = performance.now() - started;
    expect(r).toMatchObject({ ok: false, reason: 'codec_timeout' });
    expect(took).toBeGreaterThanOrEqual(CODEC_TIMEOUT_MS - 5);
    expect(took).toBeLessThan(100 + 150); // a generous margin for a loaded CI machine
    expect(runJsCodec(LDDS_LIKE, frame, MAP).ok).toBe(true);
  });
  it('also times out loops hidden in promise callbacks and at the top level of the source', () => {
    expect(run('Promise.resolve().then(function () { for (;;) {} }); return { data: { a: 1 } };')).toMatchObject({
      reason: 'codec_timeout',
    });
    expect(runJsCodec('while (true) {}', frame, MAP)).toMatchObject({
      reason: 'codec_timeout',
    });
  });
  it.each([
    ['a thrown error', "throw new Error('boom');", /boom/],
    ['process', 'return { data: { a: process.pid } };', /process is not defined/],
    ['require', "return { data: { a: require('fs') } };", /require is not defined/],
    [
      'escape via constructor chain',
      "return { data: { a: this.constructor.constructor('return process')().pid } };",
      /./,
    ],
    [
      'escape via input prototype',
      "return { data: { a: input.constructor.constructor('return process')().pid } };",
      /./,
    ],
    ['eval', "return { data: { a: eval('1') } };", /Code generation/],
    ['a thrown object with a looping getter', 'throw { get message() { for (;;) {} } };', /non-error/],
    ['no decodeUplink at all', '', /decodeUplink/],
  ])('rejects %s with codec_error', (_n, body, msg) => {
    const r = _n === 'no decodeUplink at all' ? runJsCodec('var x = 1;', frame, MAP) : run(body);
    expect(r).toMatchObject({ ok: false, reason: 'codec_error' });
    expect(r.ok ? '' : r.message).toMatch(msg);
  });
  it('offers no timers or fetch to the codec', () => {
    const r = run(
      "return { data: { a: [typeof setTimeout, typeof setInterval, typeof fetch, typeof queueMicrotask].join() === 'undefined,undefined,undefined,undefined' } };",
    );
    expect(r).toEqual({ ok: true, values: { x_a: 1 } });
  });
  it('rejects a syntax error and oversized output with codec_error', () => {
    expect(runJsCodec('function decodeUplink( {', frame, MAP)).toMatchObject({
      reason: 'codec_error',
    });
    expect(run("var s = ''; for (var i = 0; i < 70000; i++) s += 'x'; return { data: { a: 1, s: s } };")).toMatchObject(
      {
        reason: 'codec_error',
      },
    );
  });
  it('keeps no state between calls (fresh context per uplink)', () => {
    const src = 'var n = (typeof n === "number" ? n : 0) + 1; function decodeUplink() { return { data: { a: n } }; }';
    expect(runJsCodec(src, frame, { x_a: 'a' })).toEqual({
      ok: true,
      values: { x_a: 1 },
    });
    expect(runJsCodec(src, frame, { x_a: 'a' })).toEqual({
      ok: true,
      values: { x_a: 1 },
    });
  });
});

describe('mapDecodedObject (also for network-server decoded objects)', () => {
  const tts = {
    Bat: '3.384 V',
    Distance: '2799 mm',
    TempC_DS18B20: '0.00',
    list: [{ v: 7 }],
    ok: true,
  };
  it('follows dot paths into arrays and parses numeric strings', () => {
    const r = mapDecodedObject(tts, {
      battery_v: 'Bat',
      distance_mm: 'Distance',
      x_first: 'list.0.v',
      x_ok: 'ok',
    });
    expect(r).toEqual({
      ok: true,
      values: { battery_v: 3.384, distance_mm: 2799, x_first: 7, x_ok: 1 },
    });
  });
  it('skips absent fields but fails when none is present', () => {
    expect(mapDecodedObject({ Bat: 3.1 }, { battery_v: 'Bat', distance_mm: 'Distance' })).toEqual({
      ok: true,
      values: { battery_v: 3.1 },
    });
    expect(mapDecodedObject({}, { distance_mm: 'Distance' })).toMatchObject({
      ok: false,
      reason: 'decode_error',
    });
  });
  it.each([['No Sensor'], [Number.POSITIVE_INFINITY], [{}]])('rejects the non-numeric value %j', (raw) => {
    expect(mapDecodedObject({ d: raw }, { distance_mm: 'd' })).toMatchObject({
      ok: false,
      reason: 'decode_error',
    });
  });
  it('does not walk into prototypes', () => {
    expect(mapDecodedObject({ a: 1 }, { x_a: 'a', x_p: '__proto__.toString' })).toEqual({
      ok: true,
      values: { x_a: 1 },
    });
  });
  it('fills the counter from counter keys so rain is derived, not copied', () => {
    expect(mapDecodedObject({ pulseAbs: 1234 }, { counter: 'pulseAbs' })).toEqual({
      ok: true,
      values: {},
      counter: { count: 1234, bits: 32 },
    });
    expect(mapDecodedObject({ p: 3 }, { counter_relative: 'p' })).toMatchObject({
      counter: { count: 3, relative: true },
    });
    expect(mapDecodedObject({ p: -1 }, { counter: 'p' })).toMatchObject({
      ok: false,
      reason: 'decode_error',
    });
  });
  it('refuses field maps naming unknown metrics', () => {
    expect(validateFieldMap({ level: 'x', distance_mm: '' })).toHaveLength(2);
    expect(validateFieldMap({ level_cm: 'a.b', x_extra: 'c', counter: 'n' })).toEqual([]);
    expect(mapDecodedObject({ a: 1 }, { level: 'a' })).toMatchObject({
      ok: false,
      reason: 'codec_error',
    });
  });
});
