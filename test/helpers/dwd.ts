// A local fake of the DWD open-data server for end-to-end tests, and CAP alerts made from the real DWD
// sample (test/fixtures/dwd, CC BY 4.0, Datenbasis: Deutscher Wetterdienst) with our own times and cells.
import fs from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { unzipSync, zipSync } from 'fflate';

export const DWD_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/dwd');
export const CAP_SAMPLE_ZIP = path.join(DWD_FIXTURES, 'Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_MUL.zip');
export const CAP_PATH = '/weather/alerts/cap/COMMUNEUNION_DWD_STAT/Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_DE.zip';

/** The real STARKREGEN update of the sample (three Brandenburg cells), as the template. */
const TEMPLATE = (() => {
  const files = unzipSync(new Uint8Array(fs.readFileSync(CAP_SAMPLE_ZIP)));
  const name = Object.keys(files).find((n) => n.includes('0d1a4fb5'));
  if (!name) throw new Error('CAP sample without the Starkregen update');
  return new TextDecoder().decode(files[name]);
})();
const TEMPLATE_ID = '2.49.0.0.276.0.DWD.PVW.1687511640000.0d1a4fb5-251a-46fc-aae3-a688d2021e71.MUL';

export interface CapSpec {
  id: string;
  msgType?: 'Alert' | 'Update' | 'Cancel';
  references?: string[];
  ii?: number;
  event?: string;
  severity?: 'Minor' | 'Moderate' | 'Severe' | 'Extreme';
  onset: number;
  expires: number;
  /** warncells added to the template's */
  warncells: string[];
  status?: string;
}

const berlinIso = (t: number) => `${new Date(t).toISOString().slice(0, 19)}+00:00`;

/** A DWD CAP alert: the real sample with identifier, type, event, level, times and cells replaced. */
export function capXml(s: CapSpec): string {
  const identifier = `2.49.0.0.276.0.DWD.PVW.${s.id}.MUL`;
  const refs = (s.references ?? []).map((r) => `opendata@dwd.de,2.49.0.0.276.0.DWD.PVW.${r}.MUL,${berlinIso(s.onset)}`).join(' ');
  const areas = s.warncells
    .map((c) => `<area><areaDesc>Gemeinde ${c}</areaDesc><geocode><valueName>WARNCELLID</valueName><value>${c}</value></geocode></area>`)
    .join('');
  return TEMPLATE.replaceAll(TEMPLATE_ID, identifier)
    .replace(/<msgType>[^<]*<\/msgType>/, `<msgType>${s.msgType ?? 'Alert'}</msgType>`)
    .replace(/<status>[^<]*<\/status>/, `<status>${s.status ?? 'Actual'}</status>`)
    .replace(/<references>[^<]*<\/references>/, refs ? `<references>${refs}</references>` : '')
    .replace(/(<valueName>II<\/valueName>\s*<value>)\d+/, `$1${s.ii ?? 61}`)
    .replace(/<event>STARKREGEN<\/event>/, `<event>${s.event ?? 'STARKREGEN'}</event>`)
    .replace(/<severity>Moderate<\/severity>/, `<severity>${s.severity ?? 'Moderate'}</severity>`)
    .replace(/<onset>[^<]*<\/onset>/, `<onset>${berlinIso(s.onset)}</onset>`)
    .replace(/<expires>[^<]*<\/expires>/, `<expires>${berlinIso(s.expires)}</expires>`)
    .replace(/(<language>de-DE<\/language>[\s\S]*?)(<\/info>)/, `$1${areas}$2`);
}

export function capZip(xmls: string[]): Uint8Array {
  return zipSync(Object.fromEntries(xmls.map((x, i) => [`alert-${i}.xml`, new TextEncoder().encode(x)])));
}

export interface FakeDwd {
  url: string;
  /** files by path; replace to publish a new version (a new ETag) */
  files: Map<string, Uint8Array>;
  /** paths that never answer (a hanging server) */
  hang: Set<string>;
  /** paths that answer 500 */
  fail: Set<string>;
  requests: { path: string; status: number; conditional: boolean }[];
  close(): Promise<void>;
}

/** Serves `files` with ETag/Last-Modified and answers 304 to a matching conditional GET, like the DWD server. */
export async function fakeDwdServer(): Promise<FakeDwd> {
  const files = new Map<string, Uint8Array>();
  const etags = new WeakMap<Uint8Array, string>();
  const hang = new Set<string>();
  const fail = new Set<string>();
  const requests: FakeDwd['requests'] = [];
  let n = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const conditional = !!req.headers['if-none-match'];
    if (hang.has(p)) return void requests.push({ path: p, status: 0, conditional });
    const status = fail.has(p) ? 500 : !files.has(p) ? 404 : 200;
    const body = files.get(p);
    if (status !== 200 || !body) {
      requests.push({ path: p, status, conditional });
      res.writeHead(status).end();
      return;
    }
    let tag = etags.get(body);
    if (!tag) {
      tag = `"v${++n}"`;
      etags.set(body, tag);
    }
    if (req.headers['if-none-match'] === tag) {
      requests.push({ path: p, status: 304, conditional });
      res.writeHead(304, { etag: tag }).end();
      return;
    }
    requests.push({ path: p, status: 200, conditional });
    res.writeHead(200, { etag: tag, 'content-type': 'application/octet-stream', 'content-length': String(body.byteLength) }).end(Buffer.from(body));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    hang,
    fail,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
