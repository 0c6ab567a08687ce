// MQTT side of the simulator: connect with a hard deadline and map CONNACK refusals to clear messages;
// a publish resolves on PUBACK (QoS 1/2) so "acknowledged" means the broker accepted it.
import mqtt, { type MqttClient } from 'mqtt';

export interface Publisher {
  publish(topic: string, payload: string, qos: 0 | 1 | 2): Promise<void>;
  close(): Promise<void>;
  /** set once the broker dropped the connection */
  readonly closedReason: string | undefined;
}

export class ConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectError';
  }
}

// MQTT 3.1.1 CONNACK return codes and their MQTT 5 reason-code equivalents.
const REFUSALS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
  134: 'bad user name or password',
  135: 'not authorized',
};

export function describeConnectError(url: string, e: unknown): string {
  const err = e as { code?: string | number; message?: string };
  if (typeof err.code === 'number' && REFUSALS[err.code]) {
    return `MQTT broker ${url} refused the connection: ${REFUSALS[err.code]} (CONNACK ${err.code}) — check --username/--password`;
  }
  if (err.code === 'ECONNREFUSED') return `cannot connect to MQTT broker ${url}: connection refused (is it running on that port?)`;
  if (err.code === 'ENOTFOUND') return `cannot connect to MQTT broker ${url}: host not found`;
  return `cannot connect to MQTT broker ${url}: ${err.message ?? String(e)}`;
}

export async function connectPublisher(url: string, auth: { username?: string; password?: string }, timeoutMs = 5000): Promise<Publisher> {
  const client: MqttClient = mqtt.connect(url, {
    ...auth,
    clientId: `regenwacht-sim-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    reconnectPeriod: 0, // fail clearly instead of retrying silently
    connectTimeout: timeoutMs,
    clean: true,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no CONNACK within ${timeoutMs} ms`)), timeoutMs);
    const fail = (e: unknown): void => {
      clearTimeout(timer);
      client.end(true);
      reject(new ConnectError(describeConnectError(url, e)));
    };
    client.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    client.once('error', fail);
    client.once('close', () => fail(new Error('connection closed before CONNACK')));
  });
  client.removeAllListeners('error');
  client.removeAllListeners('close');

  let closedReason: string | undefined;
  const pending = new Set<(e: Error) => void>();
  const onDown = (why: string): void => {
    closedReason ??= why;
    for (const reject of pending) reject(new Error(closedReason));
    pending.clear();
  };
  client.on('error', (e) => onDown(`broker error: ${e.message}`));
  client.on('close', () => onDown('the broker closed the connection (publish not authorized for this topic?)'));

  return {
    get closedReason() {
      return closedReason;
    },
    publish(topic, payload, qos) {
      if (closedReason) return Promise.reject(new Error(closedReason));
      return new Promise<void>((resolve, reject) => {
        let settled = false;
        const settle = (e?: Error): void => {
          if (settled) return;
          settled = true;
          pending.delete(rejectFn);
          e ? reject(e) : resolve();
        };
        const rejectFn = (e: Error): void => settle(e);
        pending.add(rejectFn);
        client.publish(topic, payload, { qos }, (err) => settle(err ?? undefined));
      });
    },
    async close() {
      closedReason ??= 'closed by the simulator';
      await client.endAsync().catch(() => undefined);
    },
  };
}
