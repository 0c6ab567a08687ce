// Building blocks for the end-to-end alarm and notification tests: a controllable clock, readings published
// over MQTT at that clock, alarm look-ups through the HTTP API, and scripted webhook receivers.
import crypto from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { MqttClient } from 'mqtt';
import { json, type Received, startServer, type TestServer } from '../../services/notify/test-server.ts';
import { publish, type TestSystem, waitFor } from './system.ts';

export const MIN = 60_000;
export const HOUR = 60 * MIN;

/** The system's clock (alarm store, notifier, scheduler, engine). Readings are published "live": the
 *  clock is moved to a reading's time before it is sent, as if the gauge reported in real time. */
export class Clock {
  constructor(public t: number) {}
  readonly now = () => this.t;
  set(t: number) {
    if (t > this.t) this.t = t;
  }
  advance(ms: number) {
    this.t += ms;
  }
}

/** A start time in the past, on a whole 5 minutes, leaving `spanMs` of room up to the real now. */
export const pastStart = (spanMs: number) => Math.floor((Date.now() - spanMs) / (5 * MIN)) * 5 * MIN;

export interface AlarmView {
  id: string;
  ruleId: string;
  deviceId: string;
  severity: string;
  state: string;
  value: number;
  threshold: number;
  mode: string;
  startedAt: string;
  resolvedAt: string | null;
  events: { kind: string; severity: string; value: number | null; at: string }[];
  notifications: {
    id: string;
    routeId: string;
    type: string;
    purpose: string;
    state: string;
    to: string;
    attempts: { ok: boolean; status: number | null }[];
  }[];
}

export class Harness {
  private client?: MqttClient;
  constructor(
    readonly s: TestSystem,
    readonly clock: Clock,
  ) {}

  async mqtt() {
    this.client ??= await this.s.mqttClient();
    return this.client;
  }

  async device(id: string, params: Record<string, unknown> = {}, model = 'generic') {
    await this.s.ok('POST', '/api/v1/devices', { id, name: `Pegel ${id}`, model, location: { lat: 50.58, lon: 8.67 }, params });
  }

  async rule(body: Record<string, unknown>): Promise<string> {
    return (await this.s.ok<{ id: string }>('POST', '/api/v1/rules', body)).id;
  }

  async route(body: Record<string, unknown>): Promise<string> {
    return (await this.s.ok<{ id: string }>('POST', '/api/v1/routes', body)).id;
  }

  /** Publishes one native uplink at `time` (the clock moves there first) and waits until its alarm
   *  transitions are stored. */
  async send(
    deviceId: string,
    time: number,
    readings: Record<string, number> | Array<{ time: number; readings: Record<string, number> }>,
    o: { settle?: boolean } = {},
  ) {
    const body = Array.isArray(readings)
      ? readings.map((r) => ({ time: new Date(r.time).toISOString(), readings: r.readings }))
      : { time: new Date(time).toISOString(), readings };
    this.clock.set(time);
    await publish(await this.mqtt(), `devices/${deviceId}/up`, body);
    if (o.settle !== false) await this.s.alerting!.settle();
  }

  /** Moves the clock on in steps, running one scheduler pass after each step. */
  async advance(ms: number, stepMs = ms) {
    const end = this.clock.t + ms;
    while (this.clock.t < end) {
      await this.s.alerting!.settle(); // nothing in flight while the clock jumps (its lock is 2 min of clock)
      this.clock.set(Math.min(end, this.clock.t + stepMs));
      await this.s.alerting!.tick();
      await this.s.alerting!.settle();
    }
  }

  async alarms(q: { ruleId?: string; deviceId?: string; mode?: string }): Promise<AlarmView[]> {
    const qs = new URLSearchParams({ state: 'all', ...q } as Record<string, string>);
    const list = await this.s.ok<{ items: { id: string }[] }>('GET', `/api/v1/alarms?${qs}`);
    const out: AlarmView[] = [];
    for (const a of list.items.reverse()) out.push(await this.s.ok('GET', `/api/v1/alarms/${a.id}`));
    return out;
  }

  async alarm(id: string): Promise<AlarmView> {
    return this.s.ok('GET', `/api/v1/alarms/${id}`);
  }

  close() {
    this.client?.end(true);
  }
}

/** A webhook receiver answering with a script of statuses (the last one repeats); 'hang' never answers. */
export async function receiver(
  script: Array<number | 'hang'> = [200],
): Promise<TestServer & { bodies(): any[]; waitRequests(n: number, ms?: number): Promise<Received[]> }> {
  let i = 0;
  const srv = await startServer((_req: Received, res: ServerResponse) => {
    const step = script[Math.min(i++, script.length - 1)];
    if (step === 'hang') return;
    json(res, step, { ok: step < 300 });
  });
  return Object.assign(srv, {
    bodies: () => srv.requests.map((r) => JSON.parse(r.body)),
    waitRequests: (n: number, ms = 8000) => waitFor(() => srv.requests.length >= n && srv.requests, ms, `${n} request(s) at ${srv.url}`),
  });
}

export const newSecret = () => `whsec_${crypto.randomBytes(24).toString('base64')}`;

export const webhook = (url: string, extra: Record<string, unknown> = {}) => ({ type: 'webhook', url, secret: newSecret(), format: 'regenwacht', ...extra });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
