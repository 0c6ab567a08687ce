// [issue 18] /readyz tells a load balancer to stop sending while this instance drains on shutdown.
import { describe, expect, it } from 'vitest';
import { startSystem } from '../helpers/system.ts';

describe('readiness while draining', () => {
  it('/readyz answers 503 "draining" as soon as a graceful stop begins, and names the scheduler leader', async () => {
    const s = await startSystem({ store: process.env.TEST_DATABASE_URL ? 'pg' : 'pglite' });
    try {
      const before = await (await fetch(`${s.httpUrl}/readyz`)).json();
      expect(before).toMatchObject({ status: 'ready', database: true, broker: true, draining: false, schedulerLeader: true });
      const stopping = s.stop();
      const r = await fetch(`${s.httpUrl}/readyz`);
      expect(r.status).toBe(503);
      expect(await r.json()).toMatchObject({ status: 'draining', draining: true });
      await stopping;
    } finally {
      await s.close();
    }
  }, 120_000);
});
