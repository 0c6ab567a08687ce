// Graceful shutdown (SIGTERM): /readyz says "draining" from the first moment, the scheduler lock goes to
// another instance, no new uplink is taken while the ones in hand are stored and acknowledged, then the
// steps are undone. Bounded, so Kubernetes' 30 s grace period (and close-with-grace's) is never reached.
// [docs/operations.md Graceful drain]
import type { Logger } from 'pino';
import type { Alerting } from '../alarms/alerting.ts';
import type { RunningBroker } from '../broker/broker.ts';
import type { Upstream } from '../ingest/upstream.ts';
import type { Stops } from './stops.ts';

export interface Drainable {
  alerting?: Alerting;
  upstream?: Upstream;
  broker?: RunningBroker;
}

export async function drainThenStop(parts: Drainable, stops: Stops, log: Logger, drainMs: number): Promise<void> {
  const t0 = Date.now();
  // all at once: the scheduler lock goes to another instance while the uplinks in hand are finished
  await Promise.all([
    parts.alerting?.handOver().catch((e) => log.warn({ err: (e as Error).message }, 'scheduler hand-over failed')),
    parts.upstream?.drain(drainMs),
    parts.broker?.drain(drainMs),
  ]).catch((e) => log.warn({ err: (e as Error).message }, 'drain failed'));
  log.info({ ms: Date.now() - t0 }, 'drained: no uplink in hand, scheduler handed over');
  await stops.run(log);
}
