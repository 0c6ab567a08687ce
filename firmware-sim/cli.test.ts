// The command line: clear messages for bad arguments, and for a broker that refuses us within ~5 s.
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ArgError, parseCli, parseDuration } from './args.ts';
import { main } from './cli.ts';
import { ConnectError, connectPublisher } from './publisher.ts';

const problems = (argv: string[]): string[] => {
  try {
    parseCli(argv);
  } catch (e) {
    if (e instanceof ArgError) return e.problems;
    throw e;
  }
  return [];
};

describe('argument errors', () => {
  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--format', 'xml'], /--format must be one of chirpstack, tts, native, got "xml"/],
    [['--devices', '0'], /--devices must be a whole number/],
    [['--model', 'acme-x'], /--model must be one of decentlab-dl-mbx, .*sensecap-s2120, got "acme-x"/],
    [['--scenario', 'euler2', '--duration', '7m'], /multiple of 5 minutes/],
    [['--duration', 'soon'], /--duration must be a duration like 60m/],
    [['--faults', 'spike,meteor'], /unknown fault "meteor"/],
    [['--qos', '3'], /--qos must be 0, 1 or 2/],
    [['--setup'], /--setup needs --api URL and an API token in REGENWACHT_TOKEN \(or --token T\)/],
    [['--webhook', 'http://x'], /only take effect with --setup/],
    [['--scenario', 'replay'], /needs --csv FILE/],
    [['--cell', 'atlantis'], /--cell must be one of 117111, berlin/],
    [['--broker', '127.0.0.1:1883'], /--broker must be a URL/],
    [['--count', '10'], /--count only applies in load mode/],
  ])('%j', (argv, re) => {
    expect(problems(argv).join('\n')).toMatch(re);
  });

  it('lists every problem at once', () => {
    expect(problems(['--format', 'xml', '--devices', '1.5', '--qos', '9'])).toHaveLength(3);
  });

  it('valid flags parse into frozen options', () => {
    const o = parseCli(['--scenario', 'euler2', '--return-period', '30', '--duration', '1h', '--speed', '60', '--seed', 's']);
    expect(o).toMatchObject({ scenario: 'euler2', returnPeriod: 30, durationMs: 3_600_000, speed: 60, seed: 's', qos: 1 });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('durations', () => {
    expect(parseDuration('60m')).toBe(3_600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('15')).toBe(900_000);
    expect(parseDuration('1x')).toBeUndefined();
  });

  it('main() exits 2 and prints the usage', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['--format', 'xml'])).toBe(2);
    expect(String(err.mock.calls[0][0])).toMatch(/regenwacht-sim: error: --format[\s\S]*Usage: npm run sim/);
    err.mockRestore();
  });
});

describe('broker refusals', () => {
  let aedes: Aedes;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    aedes = await Aedes.createBroker({
      authenticate: (_c, username, password, done) => {
        if (username === 'sim' && password?.toString() === 'good') return done(null, true);
        const err = Object.assign(new Error('bad credentials'), { returnCode: username === 'sim' ? 4 : 5 });
        done(err as never, false);
      },
    });
    server = createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
  });

  it.each([
    [{ username: 'sim', password: 'bad' }, /bad user name or password \(CONNACK 4\)/],
    [{ username: 'other', password: 'x' }, /not authorized \(CONNACK 5\)/],
  ])('%j → clear message', async (auth, re) => {
    const t = Date.now();
    await expect(connectPublisher(url, auth)).rejects.toThrow(re);
    expect(Date.now() - t).toBeLessThan(5000);
  });

  it('connection refused', async () => {
    await expect(connectPublisher('mqtt://127.0.0.1:1', {})).rejects.toBeInstanceOf(ConnectError);
    await expect(connectPublisher('mqtt://127.0.0.1:1', {})).rejects.toThrow(/connection refused/);
  });

  it('a full run through a real broker: every QoS 1 publish acknowledged', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const code = await main([
      '--broker',
      url,
      '--username',
      'sim',
      '--password',
      'good',
      '--devices',
      '2',
      '--duration',
      '10m',
      '--speed',
      '1e5',
      '--json',
      '--seed',
      '1',
    ]);
    const summary = JSON.parse(String(out.mock.calls.at(-1)![0]));
    out.mockRestore();
    expect(code).toBe(0);
    expect(summary).toMatchObject({ sent: 22, acknowledged: 22, errors: 0 });
  });

  it('main() exits 1 with the refusal', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['--broker', url, '--username', 'sim', '--password', 'bad'])).toBe(1);
    expect(String(err.mock.calls.at(-1)![0])).toMatch(/refused the connection: bad user name or password/);
    err.mockRestore();
  });
});
