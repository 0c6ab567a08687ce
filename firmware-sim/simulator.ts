// runSimulator: options → (setup) → scenario → sensors → faults → encoder → envelope → MQTT, paced by --speed
// or --rate; returns the summary. Tests and the benchmark call it in-process.
import { parseCli, type SimOptions } from './args.ts';
import { simDevices } from './devices.ts';
import { getModel } from './encoders/index.ts';
import { chirpstackUplink, type Message, nativeUplink, radioFor, ttsUplink } from './envelopes.ts';
import { createFaultApplier, planFaults } from './faults.ts';
import { buildRuns, type NowcastServer, PUBLISH_DELAY_MS, startNowcastServer } from './nowcast/server.ts';
import { NowcastStorm, nowcastStormFor, RUN_STEP_MS } from './nowcast/storm.ts';
import { createRng } from './prng.ts';
import { connectPublisher, type Publisher } from './publisher.ts';
import { buildScenario } from './scenarios/index.ts';
import { buildSchedule } from './schedule.ts';
import { createSensor, DEFAULT_SENSOR, round, type SensorParams } from './sensor.ts';
import { runSetup, type SetupResult } from './setup.ts';

export interface Summary {
  sent: number;
  acknowledged: number;
  errors: number;
  /** uplinks dropped by the gap fault (never sent) */
  dropped: number;
  duplicates: number;
  devices: number;
  model: string;
  format: string;
  scenario: string;
  seed: string;
  firstTime?: string;
  lastTime?: string;
  wallMs: number;
  deviceIds: string[];
  setup?: SetupResult;
  /** --nowcast: RV runs made and fetched */
  nowcast?: { url: string; runs: number; served: number };
  error?: string;
}

export interface RunDeps {
  /** injected publisher (tests); otherwise connects to opts.broker */
  publisher?: Publisher;
  now?: () => number;
  log?: (line: string) => void;
  fetchImpl?: typeof fetch;
  /** called with every message before it is published (tests, debugging) */
  onMessage?: (m: Message & { deviceId: string; time: number }) => void;
}

const MAX_IN_FLIGHT = 1000;
const ACK_WAIT_MS = 30_000;
/** how long the nowcast server stays up after the last uplink for Regenwacht to fetch the last run */
const NOWCAST_LINGER_MS = 120_000;

export async function runSimulator(input: SimOptions | string[], deps: RunDeps = {}): Promise<Summary> {
  const opts = Array.isArray(input) ? cliOptions(input) : input;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => undefined);
  const rng = createRng(opts.seed);
  const spec = getModel(opts.model);
  const tailMs = opts.tailMs >= 0 ? opts.tailMs : spec.kind === 'level' ? 2 * 3_600_000 : 0;
  const scenario = buildScenario({ ...opts, tailMs }, rng.fork('scenario'));
  const deviceCount = scenario.deviceNames?.length ?? opts.devices;
  const devices = simDevices(opts.model, deviceCount);
  const sensorParams: SensorParams = { ...DEFAULT_SENSOR, mountHeightMm: opts.mountHeightMm, mmPerTip: opts.mmPerTip };
  const summary: Summary = {
    sent: 0,
    acknowledged: 0,
    errors: 0,
    dropped: 0,
    duplicates: 0,
    devices: deviceCount,
    model: opts.model,
    format: opts.format,
    scenario: scenario.describe,
    seed: opts.seed,
    wallMs: 0,
    deviceIds: devices.map((d) => d.id),
  };

  let auth = { username: opts.username, password: opts.password };
  if (opts.setup) {
    summary.setup = await runSetup({
      api: opts.api!,
      token: opts.token!,
      devices,
      sensor: sensorParams,
      username: opts.username,
      webhook: opts.webhook,
      sms: opts.sms,
      nowcast: opts.nowcast,
      rng: rng.fork('setup'),
      fetchImpl: deps.fetchImpl,
    });
    if (summary.setup.credentials) auth = summary.setup.credentials;
    log(
      `setup: ${summary.setup.devicesCreated} device(s) created, ${summary.setup.devicesExisting} existed` +
        (summary.setup.credentials ? `, MQTT user ${summary.setup.credentials.username}` : '') +
        (summary.setup.ruleCreated ? ', rule created' : '') +
        (summary.setup.routesCreated.length ? `, routes: ${summary.setup.routesCreated.join(', ')}` : ''),
    );
  }

  const publisher = deps.publisher ?? (await connectPublisher(opts.broker, auth, opts.connectTimeoutMs));
  // --nowcast: the storm's RV runs are made before the simulated time starts (about 1 s per member on a busy
  // machine), then served as the simulated time reaches each run
  let runs: Map<number, Uint8Array> | undefined;
  if (opts.nowcast) {
    const simStart0 = now() - scenario.spanMs * (1 - 1 / opts.speed);
    const storm = new NowcastStorm(nowcastStormFor(Math.floor(simStart0 / RUN_STEP_MS) * RUN_STEP_MS));
    log(`nowcast: making the synthetic radar nowcast storm (RV runs every 5 min over ${scenario.spanMs / 60_000} min) …`);
    runs = await buildRuns(storm, simStart0 + scenario.spanMs);
  }
  const wallStart = now();
  let nowcast: NowcastServer | undefined;
  if (runs) {
    const simStart = wallStart - scenario.spanMs * (1 - 1 / opts.speed);
    nowcast = await startNowcastServer({
      port: opts.nowcastPort,
      runs,
      publishedBy: (T) => wallStart + (T + PUBLISH_DELAY_MS - simStart) / opts.speed,
      now,
    });
    log(`nowcast: ${runs.size} RV runs served at ${nowcast.url} (Regenwacht: DWD_OPENDATA_URL=${nowcast.url} DWD_POLL=2s DWD_RADAR_LOOKBACK=7200)`);
  }
  const schedule = buildSchedule(opts, scenario, deviceCount, wallStart);
  const state = devices.map((dev, d) => {
    const r = rng.fork(`device-${dev.n}`);
    const n = schedule.countFor(d);
    return {
      dev,
      fCnt: 0,
      prevTips: undefined as number | undefined,
      radioRng: r.fork('radio'),
      link: { rssi: -75 - r.int(0, 40), snr: 9 - r.next() * 12, sf: 7 + r.int(0, 3) },
      sensor: createSensor(spec, sensorParams, r.fork('sensor')),
      faults: createFaultApplier(planFaults(opts.faults, n, r.fork('faults')), spec, n),
    };
  });

  const inFlight = new Set<Promise<void>>();
  for (const ev of schedule.events()) {
    if (publisher.closedReason) break;
    const wait = ev.sendAt - now();
    if (wait > 1) await sleep(wait);
    const s = state[ev.device];
    const reading = s.sensor.read(ev.offset, scenario.truth(ev.device, ev.offset));
    const up = s.faults(ev.index, reading);
    if (!up) {
      summary.dropped++;
      s.fCnt++; // a lost frame still used its frame counter
      continue;
    }
    if (up.rebooted) s.fCnt = 0;
    let msg: Message;
    if (opts.format === 'native') msg = nativeUplink(s.dev, nativeReadings(s, up.reading, sensorParams), ev.time);
    else {
      const frame = spec.encode(up.reading);
      const meta = { time: ev.time, fCnt: s.fCnt, radio: radioFor(s.radioRng, s.link), seed: opts.seed };
      msg = opts.format === 'tts' ? ttsUplink(s.dev, frame, meta) : chirpstackUplink(s.dev, frame, meta);
    }
    s.fCnt = (s.fCnt + 1) >>> 0;
    summary.firstTime ??= new Date(ev.time).toISOString();
    summary.lastTime = new Date(ev.time).toISOString();
    for (let c = 0; c < up.copies; c++) {
      if (c > 0) summary.duplicates++;
      deps.onMessage?.({ ...msg, deviceId: s.dev.id, time: ev.time });
      while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      summary.sent++;
      const p: Promise<void> = publisher
        .publish(msg.topic, msg.payload, opts.qos)
        .then(
          () => void summary.acknowledged++,
          (e: Error) => {
            summary.errors++;
            summary.error ??= e.message;
          },
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }
  await Promise.race([Promise.all(inFlight), sleep(ACK_WAIT_MS)]);
  if (inFlight.size) {
    summary.errors += inFlight.size;
    summary.error ??= `${inFlight.size} publish(es) not acknowledged within ${ACK_WAIT_MS / 1000} s`;
  }
  if (publisher.closedReason && !summary.error) summary.error = publisher.closedReason;
  if (!deps.publisher) await publisher.close();
  if (nowcast) {
    // Regenwacht looks for a new run every DWD_POLL: give it time to fetch the last one
    const last = nowcast.runTimes.at(-1) ?? 0;
    const until = now() + NOWCAST_LINGER_MS;
    while (!nowcast.served.has(last) && now() < until) await sleep(250);
    summary.nowcast = { url: nowcast.url, runs: nowcast.runTimes.length, served: nowcast.served.size };
    await nowcast.close();
  }
  summary.wallMs = now() - wallStart;
  return summary;
}

/** Native JSON carries canonical metrics [docs/topics.md]: an IP sensor computes its own interval rain. */
function nativeReadings(s: { prevTips: number | undefined }, r: import('./encoders/index.ts').SensorReading, p: SensorParams): Record<string, number> {
  const out: Record<string, number> = {};
  if (r.tipCount !== undefined) {
    // a counter that went backwards restarted at 0 (reboot): the new count is all new rain
    const delta = s.prevTips === undefined ? 0 : r.tipCount >= s.prevTips ? r.tipCount - s.prevTips : r.tipCount;
    out.rain_mm = round(delta * p.mmPerTip, 3);
    s.prevTips = r.tipCount;
  } else if (r.rainMm !== undefined) out.rain_mm = r.rainMm;
  if (r.distanceMm !== undefined) out.level_cm = round((p.mountHeightMm - r.distanceMm) / 10, 1);
  if (r.pressureBar !== undefined) out.level_cm = round(r.pressureBar * 1019.72, 1);
  if (r.batteryV !== undefined) out.battery_v = r.batteryV;
  if (r.temperatureC !== undefined) out.temperature_c = r.temperatureC;
  return out;
}

function cliOptions(argv: string[]): SimOptions {
  const o = parseCli(argv);
  if (o === 'help') throw new Error('--help is only meaningful on the command line');
  return o;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
