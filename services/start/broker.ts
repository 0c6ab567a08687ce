// Step 5: where uplinks come from — the embedded MQTT broker and/or the network server's broker (upstream).
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { alarmTrace } from '../alarms/alarm-trace.ts';
import { MqttClientIds } from '../auth/mqtt-client-ids.ts';
import { type RunningBroker, startBroker } from '../broker/broker.ts';
import type { AppContext } from '../context.ts';
import type { IngestService } from '../ingest/ingest-service.ts';
import { startUpstream, type Upstream } from '../ingest/upstream.ts';
import type { HeldPort } from '../start-checks.ts';
import type { Stops } from './stops.ts';

/** `held`: the ports (MQTT, MQTTS) step 1 holds for the broker, let go of just before it listens. */
export async function startMqtt(ctx: AppContext, ingest: IngestService, held: (HeldPort | undefined)[], stops: Stops): Promise<RunningBroker | undefined> {
  const { config } = ctx;
  if (!config.roles.has('broker') || config.mqttPort === 'off') return undefined;
  await Promise.all(held.map((h) => h?.release()));
  const broker = await startBroker(config.bindHost, config.mqttPort, {
    credentials: ctx.credentials,
    clientIds: new MqttClientIds(ctx.db),
    devices: ctx.devices,
    ingest: (m) => {
      alarmTrace.on?.('received', m.topic);
      return ingest.handle(m);
    },
    refused: (m, reason, message) => ingest.refused(m, reason, message),
    log: ctx.log,
    maxPacketBytes: config.mqtt.maxPacketBytes,
    connectTimeoutMs: config.mqtt.connectTimeoutMs,
    maxPendingPerAddress: config.mqtt.maxPendingPerAddress,
    maxUnacked: config.mqtt.maxUnacked,
    maxUnackedBytes: config.mqtt.maxUnackedBytes,
    maxUnackedPerClient: config.mqtt.maxUnackedPerClient,
    tls: config.mqtts,
  });
  stops.push(() => broker.close());
  return broker;
}

export function startUpstreamFeed(ctx: AppContext, ingest: IngestService, stops: Stops): Upstream | undefined {
  const { config } = ctx;
  if (!config.upstream || !config.roles.has('ingest')) return undefined;
  const upstream = startUpstream({ ...config.upstream, clientId: upstreamClientId(config.dataDir) }, (m) => ingest.handle(m), ctx.log);
  stops.push(() => upstream.close());
  return upstream;
}

/**
 * Stable across restarts of one instance (its persistent session and queued uplinks survive), distinct for
 * two instances on one host: with the same client id the upstream broker would kick one off for the other.
 */
export function upstreamClientId(dataDir: string): string {
  return `rw-${crypto
    .createHash('sha256')
    .update(`${os.hostname()}\0${path.resolve(dataDir)}`)
    .digest('hex')
    .slice(0, 20)}`;
}
