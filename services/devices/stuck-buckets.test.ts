import { describe, expect, it } from 'vitest';
import type { Device } from './device-registry.ts';
import { stuckGauges } from './stuck-buckets.ts';

const dev = (id: string, tags: Record<string, string>, org = 'default'): Device =>
  ({ id, name: id, model: 'generic', devEui: null, location: null, params: {}, tags, org, createdAt: '', updatedAt: '' }) as Device;

describe('stuck tipping bucket', () => {
  const hour = (x: Record<string, [number, number]>) => new Map(Object.entries(x).map(([id, [mm, uplinks]]) => [id, { mm, uplinks }]));

  it('warns a reporting gauge at 0 mm when a neighbour sharing a tag measured ≥ 5 mm', () => {
    const ds = [dev('a', { c: 'x' }), dev('b', { c: 'x' }), dev('c', { c: 'y' })];
    expect([...stuckGauges(ds, hour({ a: [12, 6], b: [0, 6], c: [0, 6] })).keys()]).toEqual(['b']);
  });
  it('not when the neighbours had little rain, the gauge is silent, or the neighbour is another municipality', () => {
    const ds = [dev('a', { c: 'x' }), dev('b', { c: 'x' }), dev('d', { c: 'x' }, 'other')];
    expect(stuckGauges(ds, hour({ a: [4.8, 6], b: [0, 6] })).size).toBe(0);
    expect(stuckGauges(ds, hour({ a: [12, 6], b: [0, 1] })).size).toBe(0);
    expect(stuckGauges(ds, hour({ d: [12, 6], b: [0, 6] })).size).toBe(0);
  });
});
