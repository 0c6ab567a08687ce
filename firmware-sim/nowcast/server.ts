// `--nowcast`: a local stand-in for the DWD open-data server in its own layout (weather/radar/composite/rv/),
// serving the synthetic nowcast storm's RV runs (composite_rv_YYYYMMDD_HHMM.tar) as the simulated time reaches
// each run's publication (2 min after its base time, as the DWD publishes). Regenwacht fetches them with
// DWD_OPENDATA_URL=http://127.0.0.1:<port>. [firmware-sim/README.md] [docs/dwd.md Radar nowcast]
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hdf5Name } from '../../services/dwd/nowcast-job.ts';
import { MIN, type NowcastStorm } from './storm.ts';

export const PUBLISH_DELAY_MS = 2 * MIN;

export const RV_PATH = '/weather/radar/composite/rv';

export interface NowcastServer {
  /** the server's base, for Regenwacht's DWD_OPENDATA_URL */
  url: string;
  /** runs fetched at least once */
  served: Set<number>;
  runTimes: number[];
  close(): Promise<void>;
}

/** `runs` tars by base time, built before the simulated storm starts; `publishedBy(T)`: the wall time from which
 *  run T is available. */
export async function startNowcastServer(o: {
  port: number;
  runs: Map<number, Uint8Array>;
  publishedBy: (runT: number) => number;
  now: () => number;
}): Promise<NowcastServer> {
  const byName = new Map([...o.runs].map(([t, tar]) => [hdf5Name(t), { t, tar }]));
  const served = new Set<number>();
  const server = createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').pathname.replace(/^(\/weather\/radar\/composite)?\/rv\//, '');
    const run = byName.get(name);
    if (!run || o.now() < o.publishedBy(run.t)) return void res.writeHead(404).end();
    served.add(run.t);
    res.writeHead(200, { 'content-type': 'application/x-tar', 'content-length': String(run.tar.byteLength), etag: `"${name}"` }).end(Buffer.from(run.tar));
  });
  await new Promise<void>((ok, bad) => {
    server.once('error', bad);
    server.listen(o.port, '127.0.0.1', ok);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    runTimes: [...o.runs.keys()].sort((a, b) => a - b),
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** All runs of the storm from its start to `untilMs` (every 5 min), in memory. */
export async function buildRuns(storm: NowcastStorm, untilMs: number): Promise<Map<number, Uint8Array>> {
  const runs = new Map<number, Uint8Array>();
  for (let k = 0; storm.runTime(k) <= untilMs; k++) runs.set(storm.runTime(k), await storm.runTar(k));
  return runs;
}
