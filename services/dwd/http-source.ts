// One conditional GET against the DWD open-data server (or its local mirror): If-None-Match /
// If-Modified-Since, a deadline per attempt, a cap on the body size. [docs/dwd.md Fetching]
import pRetry, { AbortError } from 'p-retry';

export interface Validators {
  etag?: string;
  lastModified?: string;
}

export type GetResult = { status: 'unchanged' } | { status: 'new'; bytes: Uint8Array; validators: Validators } | { status: 'missing' };

export interface FetchLimits {
  timeoutMs: number;
  retries: number;
  /** first backoff; doubles per retry */
  backoffMs: number;
}

export interface GetOptions extends FetchLimits {
  maxBytes: number;
}

async function readCapped(res: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new AbortError(`response of ${declared} bytes is larger than the allowed ${maxBytes}`);
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of res.body ?? []) {
    n += c.byteLength;
    if (n > maxBytes) throw new AbortError(`response larger than the allowed ${maxBytes} bytes`);
    chunks.push(c);
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** 304 → unchanged, 404 → missing (a run not published yet), 2xx → the bytes; anything else is retried with
 *  backoff and finally thrown. Each attempt has its own deadline covering headers and body, so a hanging
 *  server costs at most timeoutMs × (retries + 1) plus the backoff. */
export async function conditionalGet(url: string, have: Validators, o: GetOptions): Promise<GetResult> {
  return pRetry(
    async () => {
      const headers: Record<string, string> = { 'user-agent': 'regenwacht (DWD open data)' };
      if (have.etag) headers['if-none-match'] = have.etag;
      if (have.lastModified) headers['if-modified-since'] = have.lastModified;
      const signal = AbortSignal.timeout(o.timeoutMs);
      const res = await fetch(url, { headers, signal, redirect: 'follow' });
      if (res.status === 304) {
        await res.body?.cancel();
        return { status: 'unchanged' } as const;
      }
      if (res.status === 404) {
        await res.body?.cancel();
        return { status: 'missing' } as const;
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`HTTP ${res.status} from ${url}`);
      }
      const bytes = await readCapped(res, o.maxBytes);
      return {
        status: 'new',
        bytes,
        validators: { etag: res.headers.get('etag') ?? undefined, lastModified: res.headers.get('last-modified') ?? undefined },
      } as const;
    },
    { retries: o.retries, minTimeout: o.backoffMs, factor: 2, randomize: true },
  );
}
