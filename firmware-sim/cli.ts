// `npm run sim -- …` [firmware-sim/README.md]. Exit codes: 0 all acknowledged, 1 runtime failure or unacknowledged
// publishes, 2 bad arguments.
import { ArgError, parseCli, USAGE } from './args.ts';
import { ConnectError } from './publisher.ts';
import { ApiError } from './setup.ts';
import { runSimulator, type Summary } from './simulator.ts';

export function formatSummary(s: Summary): string {
  return (
    `sent ${s.sent}, acknowledged ${s.acknowledged}, errors ${s.errors}` +
    ` (${s.devices} × ${s.model}, ${s.format}; ${s.scenario}; dropped ${s.dropped}, duplicates ${s.duplicates};` +
    ` seed ${s.seed}; ${(s.wallMs / 1000).toFixed(1)} s)` +
    (s.nowcast ? `\nnowcast: ${s.nowcast.served} of ${s.nowcast.runs} RV runs fetched from ${s.nowcast.url}` : '') +
    (s.error ? `\nfirst error: ${s.error}` : '')
  );
}

export async function main(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  let opts: ReturnType<typeof parseCli>;
  try {
    opts = parseCli(argv, env);
  } catch (e) {
    if (e instanceof ArgError) {
      process.stderr.write(`regenwacht-sim: ${e.problems.map((p) => `error: ${p}`).join('\nregenwacht-sim: ')}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const summary = await runSimulator(opts, { log: (l) => process.stderr.write(`${l}\n`) });
    process.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : `${formatSummary(summary)}\n`);
    return summary.errors > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof ConnectError || e instanceof ApiError) {
      process.stderr.write(`regenwacht-sim: error: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`regenwacht-sim: error: ${(e as Error).message}\n`);
    return 1;
  }
}

// Run only when executed directly (tests import main()).
if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('firmware-sim/cli.ts')) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
