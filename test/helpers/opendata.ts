// A Regenwacht with two municipalities for the open-data tests: Gießen publishes (two public stations with a
// day of 5-minute readings, one station marked not public), Wetzlar does not (its station says public: true).
import { startSystem, type TestSystem } from './system.ts';

export const T0 = Date.parse('2026-05-01T00:00:00Z');
export const STEP = 300_000;

export interface OpenDataSystem {
  s: TestSystem;
  sta: string;
  tk: Record<string, string>;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string; headers: Headers }>;
  ok(path: string): Promise<any>;
  insertReadings(deviceId: string, metric: string, n: number, value: (i: number) => number, quality?: number, t0?: number): Promise<void>;
}

export async function openDataSystem(opts: { store?: 'pg' | 'pglite'; env?: Record<string, string> } = {}): Promise<OpenDataSystem> {
  const s = await startSystem({ store: opts.store ?? 'pg', env: opts.env });
  const sta = `${s.httpUrl}/sta/v1.1`;
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(path.startsWith('http') ? path : `${sta}${path}`, { headers });
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, body, text, headers: res.headers };
  };
  const ok = async (path: string) => {
    const r = await get(path);
    if (r.status !== 200) throw new Error(`GET ${path} -> ${r.status} ${r.text.slice(0, 300)}`);
    return r.body;
  };
  const insertReadings = async (deviceId: string, metric: string, n: number, value: (i: number) => number, quality = 0, t0 = T0) => {
    for (let from = 0; from < n; from += 1000) {
      const rows: unknown[] = [];
      const values: string[] = [];
      for (let i = from; i < Math.min(n, from + 1000); i++) {
        const b = rows.length;
        values.push(`($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5})`);
        rows.push(new Date(t0 + i * STEP), deviceId, metric, value(i), quality);
      }
      await s.ctx.db.query(`insert into readings(time, device_id, metric, value, quality) values ${values.join(',')}`, rows);
    }
  };
  const tk: Record<string, string> = {};
  for (const org of ['giessen', 'wetzlar']) tk[org] = (await s.ok('POST', '/api/v1/tokens', { name: `${org}-admin`, role: 'admin', org })).token;
  const dev = async (org: string, body: Record<string, unknown>) => {
    const r = await s.api('POST', '/api/v1/devices', body, tk[org]);
    if (r.status !== 201) throw new Error(`device ${body.id}: ${r.status} ${JSON.stringify(r.body)}`);
  };
  await dev('giessen', {
    id: 'rg-nord',
    name: 'Regenschreiber Gießen-Nord',
    model: 'dragino-sn50v3-count',
    devEui: 'A84041000181C61A',
    params: { mmPerTip: 0.2 },
    location: { lat: 50.5841, lon: 8.6784 },
  });
  await dev('giessen', {
    id: 'pegel-lahn',
    name: 'Pegel Lahn',
    model: 'dragino-ldds75',
    params: { mountHeightMm: 3000 },
    location: { lat: 50.5702, lon: 8.6621 },
  });
  await dev('giessen', { id: 'rg-privat', name: 'Regenschreiber Bauhof', model: 'sensecap-s2120', public: false, location: { lat: 50.59, lon: 8.7 } });
  await dev('wetzlar', { id: 'wz-01', name: 'Pegel Wetzlar', model: 'milesight-em310-udl', public: true, location: { lat: 50.556, lon: 8.504 } });
  const put = await s.api(
    'PUT',
    '/api/v1/orgs/giessen/open-data',
    { enabled: true, publisher: 'Universitätsstadt Gießen', contact: 'opendata@giessen.de' },
    tk.giessen,
  );
  if (put.status !== 200) throw new Error(`open-data: ${put.status}`);
  await insertReadings('rg-nord', 'rain_mm', 288, (i) => (i % 12 === 0 ? 1.2 : 0.2));
  await insertReadings('rg-nord', 'battery_v', 10, () => 3.6);
  await insertReadings('pegel-lahn', 'level_cm', 288, (i) => 100 + i);
  // a spike-flagged reading is stored but never published
  await s.ctx.db.query(`insert into readings(time, device_id, metric, value, quality) values ($1, 'pegel-lahn', 'level_cm', 9999, 4)`, [new Date(T0 + 30_000)]);
  await insertReadings('rg-privat', 'rain_mm', 20, () => 5);
  await insertReadings('wz-01', 'level_cm', 20, () => 50);
  return { s, sta, tk, get, ok, insertReadings };
}
