// With an MQTT v5 $share group each instance receives only part of every device's uplinks, but rolling sums
// and rates need all of them. So every instance publishes the readings it stored to its peers over the same
// broker, and feeds the peers' readings into its own rule engine (not into the store: they are stored
// already). Two engines then reach the same transitions; the alarm store's unique open alarm per
// (rule, device) turns the second into a no-op. [docs/operations.md]
import crypto from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Reading } from '../../alerts/types.ts';
import { type UpstreamTls, upstreamTlsOptions } from './upstream.ts';

type Wire = [string, string, number, number, number];

export interface PeerFeed {
  /** `confirmed` runs once the broker has the message (PUBACK) */
  publish(rs: Reading[], confirmed?: () => void): void;
  close(): Promise<void>;
}

export function startPeerFeed(
  opts: { url: string; username?: string; password?: string; group: string; tls?: UpstreamTls },
  onPeerReadings: (rs: Reading[]) => void,
  log: Logger,
): PeerFeed {
  const l = log.child({ component: 'peer-feed' });
  const me = crypto.randomBytes(6).toString('hex');
  const base = `regenwacht/${opts.group}/readings`;
  const client: MqttClient = mqtt.connect(opts.url, {
    clientId: `rw-feed-${me}`,
    username: opts.username,
    password: opts.password,
    clean: true,
    reconnectPeriod: 1000,
    ...upstreamTlsOptions(opts.tls),
  });
  client.on('connect', () => {
    client.subscribe(`${base}/+`, { qos: 1 }, (err) => {
      if (err) l.error({ err: err.message }, 'peer feed subscribe failed');
    });
  });
  client.on('error', (err) => l.warn({ err: err.message }, 'peer feed error'));
  client.on('message', (topic, payload) => {
    if (topic.endsWith(`/${me}`)) return; // our own readings reached our engine already
    try {
      const rows = JSON.parse(payload.toString('utf8')) as Wire[];
      onPeerReadings(rows.map(([deviceId, metric, time, value, quality]) => ({ deviceId, metric, time, value, quality })));
    } catch (e) {
      l.warn({ topic, err: (e as Error).message }, 'bad peer feed message ignored');
    }
  });
  return {
    publish(rs, confirmed) {
      if (!rs.length) return;
      const wire: Wire[] = rs.map((r) => [r.deviceId, r.metric, r.time, r.value, r.quality]);
      client.publish(`${base}/${me}`, JSON.stringify(wire), { qos: 1 }, (err) => {
        if (!err) confirmed?.();
      });
    },
    close: () => new Promise((r) => client.end(false, {}, () => r())),
  };
}
