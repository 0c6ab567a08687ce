// Command line → validated, frozen options [firmware-sim/README.md]. Every problem is reported at once.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MODEL_NAMES } from './encoders/index.ts';
import { FORMATS, type Format } from './envelopes.ts';
import { type FaultName, parseFaults } from './faults.ts';
import { BUILTIN_CELLS } from './scenarios/kostra.ts';

export const SCENARIOS = ['dry', 'euler2', 'replay'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface SimOptions {
  broker: string;
  username?: string;
  password?: string;
  format: Format;
  devices: number;
  model: string;
  scenario: ScenarioName;
  returnPeriod: number;
  /** storm duration (euler2), simulated span (dry), or wall-clock bound in load mode */
  durationMs: number;
  /** simulated time after the storm, so level sensors show the recession */
  tailMs: number;
  speed: number;
  intervalMs: number;
  /** load mode: messages per second across all devices */
  rate?: number;
  /** load mode: total messages */
  count?: number;
  seed: string;
  faults: FaultName[];
  qos: 0 | 1 | 2;
  cell: string;
  kostraFile?: string;
  csv?: string;
  mountHeightMm: number;
  mmPerTip: number;
  setup: boolean;
  api?: string;
  token?: string;
  webhook?: string;
  sms?: string;
  json: boolean;
  connectTimeoutMs: number;
  /** euler2: also serve the synthetic radar nowcast storm (DWD RV runs) on 127.0.0.1:nowcastPort/rv */
  nowcast: boolean;
  nowcastPort: number;
}

export class ArgError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ArgError';
  }
}

export const USAGE = `Usage: npm run sim -- [options]
  --broker URL            MQTT broker (default mqtt://127.0.0.1:1883)
  --username U --password P
  --format F              chirpstack | tts | native (default chirpstack)
  --devices N             number of simulated devices (default 1)
  --model M               ${MODEL_NAMES.join(' | ')}
  --scenario S            dry | euler2 | replay (default dry)
  --return-period T       euler2 return period in years (default 10)
  --duration D            storm duration / simulated span, e.g. 60m, 2h (default 60m); wall time in --rate mode
  --tail D                simulated time after the storm (default 0, 2h for level sensors)
  --interval D            simulated time between uplinks of one device (default 1m)
  --speed X               time compression: 60 = one simulated hour per wall minute (default 1)
  --cell C                built-in KOSTRA cell: ${Object.keys(BUILTIN_CELLS).join(' | ')} (default 117111)
  --kostra FILE           KOSTRA depths CSV with columns D_min,T1,T2,… (overrides --cell)
  --csv FILE              replay CSV: time,device,metric,value
  --faults LIST           comma list of spike,gap,stuck,counter-reset,low-battery,duplicate
  --rate N --count N      load mode: N messages/s across all devices, bounded by --duration or --count
  --seed S                same seed, same payloads (default: random, printed in the summary)
  --qos 0|1|2             (default 1)
  --mount-height MM --mm-per-tip MM   sensor parameters (default 3000, 0.2)
  --setup --api URL [--token T] [--webhook URL] [--sms +49…]   register devices, credentials, rule, route;
                          the API token comes from REGENWACHT_TOKEN (keeps it out of the process list) or --token
  --json                  print the summary as JSON
  --nowcast [--nowcast-port P]   euler2: also serve a synthetic DWD radar nowcast storm (RV runs) moving towards
                          the gauges at http://127.0.0.1:P/rv (default 8089), each run as the simulated time
                          reaches it; with --setup also a catchment and a forecast+gauge rule
`;

export function parseDuration(s: string): number | undefined {
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 60_000; // bare number = minutes
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let consumed = 0;
  for (const m of t.matchAll(re)) {
    total += Number(m[1]) * unit[m[2]];
    consumed += m[0].length;
  }
  return consumed === t.length && consumed > 0 ? total : undefined;
}

const FLAGS = {
  broker: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  format: { type: 'string' },
  devices: { type: 'string' },
  model: { type: 'string' },
  scenario: { type: 'string' },
  'return-period': { type: 'string' },
  duration: { type: 'string' },
  tail: { type: 'string' },
  interval: { type: 'string' },
  speed: { type: 'string' },
  rate: { type: 'string' },
  count: { type: 'string' },
  seed: { type: 'string' },
  faults: { type: 'string' },
  qos: { type: 'string' },
  cell: { type: 'string' },
  kostra: { type: 'string' },
  csv: { type: 'string' },
  'mount-height': { type: 'string' },
  'mm-per-tip': { type: 'string' },
  setup: { type: 'boolean' },
  api: { type: 'string' },
  token: { type: 'string' },
  webhook: { type: 'string' },
  sms: { type: 'string' },
  json: { type: 'boolean' },
  nowcast: { type: 'boolean' },
  'nowcast-port': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `env`: where REGENWACHT_TOKEN comes from, so the API token need not appear in a process list. */
export function parseCli(argv: string[], env: Record<string, string | undefined> = {}): SimOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new ArgError([(e as Error).message.replace(/\. To specify.*$/s, '')]);
  }
  if (values.help) return 'help';
  const problems: string[] = [];
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const num = (k: string, def: number | undefined, check: (n: number) => boolean, what: string): number | undefined => {
    const v = str(k);
    if (v === undefined) return def;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || !check(n)) {
      problems.push(`--${k} must be ${what}, got "${v}"`);
      return def;
    }
    return n;
  };
  const dur = (k: string, def: number): number => {
    const v = str(k);
    if (v === undefined) return def;
    const ms = parseDuration(v);
    if (ms === undefined || ms <= 0) {
      problems.push(`--${k} must be a duration like 60m, 2h or 90s, got "${v}"`);
      return def;
    }
    return ms;
  };
  const oneOf = <T extends string>(k: string, allowed: readonly T[], def: T): T => {
    const v = str(k) ?? def;
    if (!(allowed as readonly string[]).includes(v)) problems.push(`--${k} must be one of ${allowed.join(', ')}, got "${v}"`);
    return v as T;
  };

  const positiveInt = (n: number): boolean => Number.isInteger(n) && n > 0;
  const opts: SimOptions = {
    broker: str('broker') ?? 'mqtt://127.0.0.1:1883',
    username: str('username'),
    password: str('password'),
    format: oneOf('format', FORMATS, 'chirpstack'),
    devices: num('devices', 1, (n) => positiveInt(n) && n <= 100_000, 'a whole number from 1 to 100000')!,
    model: oneOf('model', MODEL_NAMES, 'dragino-sn50v3-count'),
    scenario: oneOf('scenario', SCENARIOS, 'dry'),
    returnPeriod: num('return-period', 10, (n) => n > 0, 'a return period in years, e.g. 10')!,
    durationMs: dur('duration', 3_600_000),
    tailMs: str('tail') === '0' ? 0 : dur('tail', -1),
    intervalMs: dur('interval', 60_000),
    speed: num('speed', 1, (n) => n > 0, 'a positive number (60 = one simulated hour per minute)')!,
    rate: num('rate', undefined, (n) => n > 0, 'a positive number of messages per second'),
    count: num('count', undefined, positiveInt, 'a positive whole number'),
    seed: str('seed') ?? String(Date.now()),
    faults: [],
    qos: num('qos', 1, (n) => n === 0 || n === 1 || n === 2, '0, 1 or 2') as 0 | 1 | 2,
    cell: str('cell') ?? '117111',
    kostraFile: str('kostra'),
    csv: str('csv'),
    mountHeightMm: num('mount-height', 3000, (n) => n > 0, 'a mounting height in mm')!,
    mmPerTip: num('mm-per-tip', 0.2, (n) => n > 0, 'the bucket resolution in mm, e.g. 0.2')!,
    setup: Boolean(values.setup),
    api: str('api'),
    token: str('token') ?? (env.REGENWACHT_TOKEN || undefined),
    webhook: str('webhook'),
    sms: str('sms'),
    json: Boolean(values.json),
    connectTimeoutMs: 5000,
    nowcast: Boolean(values.nowcast),
    nowcastPort: num('nowcast-port', 8089, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a TCP port (0 = any free one)')!,
  };
  try {
    opts.faults = parseFaults(str('faults') ?? '');
  } catch (e) {
    problems.push((e as Error).message);
  }
  problems.push(...crossCheck(opts));
  if (problems.length) throw new ArgError(problems);
  return Object.freeze(opts);
}

function crossCheck(o: SimOptions): string[] {
  const p: string[] = [];
  if (!/^(mqtts?|wss?|tcp):\/\//.test(o.broker)) p.push(`--broker must be a URL like mqtt://127.0.0.1:1883, got "${o.broker}"`);
  if (o.password !== undefined && o.username === undefined) p.push('--password needs --username');
  if (o.setup && (!o.api || !o.token)) p.push('--setup needs --api URL and an API token in REGENWACHT_TOKEN (or --token T)');
  if (!o.setup && (o.webhook || o.sms)) p.push('--webhook and --sms only take effect with --setup');
  if (o.webhook && !/^https?:\/\//.test(o.webhook)) p.push(`--webhook must be an http(s) URL, got "${o.webhook}"`);
  if (o.sms && !/^\+\d{6,15}$/.test(o.sms)) p.push(`--sms must be an international number like +491701234567, got "${o.sms}"`);
  if (o.scenario === 'replay' && !o.csv) p.push('--scenario replay needs --csv FILE');
  if (o.csv && !existsSync(o.csv)) p.push(`--csv file not found: ${o.csv}`);
  if (o.kostraFile && !existsSync(o.kostraFile)) p.push(`--kostra file not found: ${o.kostraFile}`);
  if (!o.kostraFile && !BUILTIN_CELLS[o.cell]) p.push(`--cell must be one of ${Object.keys(BUILTIN_CELLS).join(', ')} (or use --kostra FILE), got "${o.cell}"`);
  if (o.scenario === 'euler2' && o.rate === undefined && o.durationMs % 300_000 !== 0)
    p.push('--duration for euler2 must be a multiple of 5 minutes (KOSTRA blocks)');
  if (o.count !== undefined && o.rate === undefined) p.push('--count only applies in load mode (--rate N)');
  if (o.nowcast && (o.scenario !== 'euler2' || o.rate !== undefined)) p.push('--nowcast needs --scenario euler2 (and no --rate)');
  return p;
}
