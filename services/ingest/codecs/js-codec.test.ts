import { afterAll, describe, expect, it } from 'vitest';
import { CodecSandbox } from './codec-sandbox.ts';
import { mapDecodedObject, runJsCodec, validateFieldMap } from './js-codec.ts';

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

const sandbox = new CodecSandbox();
afterAll(() => sandbox.close());
const decode = (source: string, map: Record<string, string> = MAP, f: typeof frame & { recvTime?: Date } = frame, sb = sandbox) =>
  runJsCodec(sb, source, f, map);
const run = (body: string, map: Record<string, string> = { x_a: 'a' }) => decode(`function decodeUplink(input) { ${body} }`, map);
const good = () => decode(LDDS_LIKE);
const GOOD = { ok: true, values: { battery_v: 3.387, distance_mm: 2799 } };

describe('runJsCodec', () => {
  it('decodes and maps unit-suffixed strings and {value} objects to canonical metrics', async () => {
    expect(await good()).toEqual(GOOD);
  });
  it('passes fPort and recvTime as the TTN convention does', async () => {
    const r = await decode(LDDS_LIKE, { x_year: 'year' }, { ...frame, recvTime: new Date('2031-05-01T00:00:00Z') });
    expect(r).toEqual({ ok: true, values: { x_year: 2031 } });
  });
  it("turns the codec's own errors into decode_error", async () => {
    const r = await decode(LDDS_LIKE, MAP, { ...frame, fPort: 9 });
    expect(r).toMatchObject({ ok: false, reason: 'decode_error' });
    expect(r.ok ? '' : r.message).toContain('unknown FPort');
  });

  // The four codecs that hung or killed the process under node:vm, and their relatives.
  it.each([
    [
      'a thrown error whose stack getter loops',
      'codec_error',
      "var e = new Error('x'); Object.defineProperty(e, 'stack', { get: function () { for (;;) {} } }); throw e;",
    ],
    [
      'a thrown error whose message getter loops',
      'codec_timeout',
      "var e = new Error('x'); Object.defineProperty(e, 'message', { get: function () { for (;;) {} } }); throw e;",
    ],
    [
      'a thrown Proxy whose traps loop',
      'codec_timeout',
      'var h = function () { for (;;) {} }; throw new Proxy({}, { get: h, has: h, getPrototypeOf: h, ownKeys: h, getOwnPropertyDescriptor: h });',
    ],
    ['a thrown object with a looping toString', 'codec_error', 'throw { toString: function () { for (;;) {} }, get message() { for (;;) {} } };'],
    ['a 2 GiB typed array', 'codec_memory', 'var a = new Uint8Array(2 * 1024 * 1024 * 1024); return { data: { a: a.length } };'],
    ['a 1 GiB Float64Array', 'codec_memory', 'var a = new Float64Array(128 * 1024 * 1024); return { data: { a: a.length } };'],
    ['a 2^28-character string', 'codec_memory', "var s = 'x'.repeat(Math.pow(2, 28)); return { data: { a: s.length } };"],
    ['an allocation loop', /^codec_(memory|timeout)$/, 'var k = []; for (;;) k.push(new Array(1e5).fill(1.5));'],
    ['endless recursion', 'codec_memory', 'var f = function () { return f() + 1; }; return { data: { a: f() } };'],
    ['an endless loop', 'codec_timeout', 'for (;;) {}'],
    ['a loop in a promise callback', 'codec_error', 'Promise.resolve().then(function () { for (;;) {} }); return { data: { a: 1 } };'],
    ['a catastrophic regex', 'codec_timeout', "return { data: { a: /^(a+)+$/.test(new Array(40).join('a') + 'b') ? 1 : 0 } };"],
  ])('ends %s as %s, and the next codec still works', async (_n, reason, body) => {
    const r = await run(body);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toMatch(reason);
    expect(await good()).toEqual(GOOD);
  });

  it('ends a loop at the top level of the source with codec_timeout', async () => {
    expect(await decode('while (true) {}')).toMatchObject({ ok: false, reason: 'codec_timeout' });
  });

  it.each([
    ['a thrown error', "throw new Error('boom');", /codec threw: Error: boom/],
    ['process', 'return { data: { a: process.pid } };', /'process' is not defined/],
    ['require', "return { data: { a: require('fs') } };", /'require' is not defined/],
    ['a non-error value', 'throw 42;', /non-error value/],
    ['no decodeUplink at all', null, /defines no decodeUplink/],
    ['a syntax error', 'function decodeUplink( {', /codec does not load: SyntaxError/],
  ])('rejects %s with codec_error', async (_n, body, msg) => {
    const r = body === null ? await decode('var x = 1;') : body.startsWith('function') ? await decode(body) : await run(body);
    expect(r).toMatchObject({ ok: false, reason: 'codec_error' });
    expect(r.ok ? '' : r.message).toMatch(msg);
  });

  it('offers no host object: no process, require, timers, fetch or Node globals, and escapes lead back into the sandbox', async () => {
    const probe = `var g = this.constructor.constructor('return this')();
      return { data: { a: [typeof process, typeof require, typeof setTimeout, typeof fetch, typeof Buffer, typeof queueMicrotask, typeof g.process].join() } };`;
    const r = await decode(`function decodeUplink(input) { ${probe} }`, { x_a: 'a' });
    // the joined string is not numeric, so mapping fails with the value in the message
    expect(r).toMatchObject({ ok: false, reason: 'decode_error' });
    expect(r.ok ? '' : r.message).toContain('undefined,undefined,undefined,undefined,undefined,undefined,undefined');
  });

  it('offers typed arrays, DataView and Map/Set to codecs that use them', async () => {
    const src = `function decodeUplink(input) {
      var v = new DataView(new Uint8Array([0x41, 0x48, 0x00, 0x00]).buffer);
      var seen = new Map([[1, 'a']]);
      return { data: { t: v.getFloat32(0), n: seen.size + new Set([1, 1, 2]).size } };
    }`;
    expect(await decode(src, { temperature_c: 't', x_n: 'n' })).toEqual({ ok: true, values: { temperature_c: 12.5, x_n: 3 } });
  });

  it('rejects oversized output with codec_error', async () => {
    const r = await run("var s = ''; for (var i = 0; i < 70000; i++) s += 'x'; return { data: { a: 1, s: s } };");
    expect(r).toMatchObject({ ok: false, reason: 'codec_error' });
    expect(r.ok ? '' : r.message).toMatch(/exceeds/);
  });

  it('keeps no state between calls: top-level variables, implicit globals and global properties start fresh', async () => {
    const src = `var n = (typeof n === 'number' ? n : 0) + 1;
      counter = (typeof counter === 'number' ? counter : 0) + 1;
      this.seen = (this.seen || 0) + 1;
      function decodeUplink() { for (i = 0; i < 3; i++) {} return { data: { a: n, b: counter, c: globalThis.seen } }; }`;
    const map = { x_a: 'a', x_b: 'b', x_c: 'c' };
    for (let i = 0; i < 3; i++) expect(await decode(src, map)).toEqual({ ok: true, values: { x_a: 1, x_b: 1, x_c: 1 } });
  });

  it("keeps one codec's changes to the built-ins away from other codecs", async () => {
    const a = 'function decodeUplink() { Object.prototype.leak = 7; Math.max = function () { return 99; }; return { data: { a: 1 } }; }';
    const b = 'function decodeUplink() { return { data: { a: ({}).leak === undefined && Math.max(1, 2) === 2 ? 1 : 0 } }; }';
    expect(await decode(a, { x_a: 'a' })).toEqual({ ok: true, values: { x_a: 1 } });
    expect(await decode(b, { x_a: 'a' })).toEqual({ ok: true, values: { x_a: 1 } });
  });
});

describe('CodecSandbox', () => {
  it('terminates and replaces a worker whose call outlives the watchdog; calls queued behind it still answer', async () => {
    // An interrupt deadline far beyond the watchdog, so only the watchdog can end the loop.
    const sb = new CodecSandbox({ workers: 1, cpuMs: 60_000, watchdogMs: 200 });
    try {
      const loop = decode('function decodeUplink() { for (;;) {} }', MAP, frame, sb);
      const behind = [decode(LDDS_LIKE, MAP, frame, sb), decode(LDDS_LIKE, MAP, frame, sb)];
      expect(await loop).toMatchObject({ ok: false, reason: 'codec_timeout' });
      expect(await Promise.all(behind)).toEqual([GOOD, GOOD]);
      expect(sb.replaced).toBe(1);
    } finally {
      await sb.close();
    }
  });

  it('suspends a codec whose calls keep running out of time, without running it, while other codecs go on', async () => {
    const sb = new CodecSandbox({ suspendAfter: 3 });
    try {
      const loop = 'function decodeUplink() { for (;;) {} }';
      for (let i = 0; i < 3; i++)
        expect(await decode(loop, MAP, frame, sb)).toMatchObject({ ok: false, reason: 'codec_timeout', message: expect.stringMatching(/longer than/) });
      const r = await decode(loop, MAP, frame, sb);
      expect(r).toMatchObject({ ok: false, reason: 'codec_timeout' });
      expect(r.ok ? '' : r.message).toMatch(/suspended for \d+ s more/);
      expect(await decode(LDDS_LIKE, MAP, frame, sb)).toEqual(GOOD);
    } finally {
      await sb.close();
    }
  });

  it('answers calls made after close with codec_error instead of hanging', async () => {
    const sb = new CodecSandbox({ workers: 1 });
    await sb.close();
    expect(await decode(LDDS_LIKE, MAP, frame, sb)).toMatchObject({ ok: false, reason: 'codec_error' });
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
