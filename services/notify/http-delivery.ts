// One HTTP attempt with a hard deadline, classified for the outbox's retry loop. [docs/formats.md Webhook]
import type { DeliveryResult } from '../../alerts/channels/types.ts';

/** The request an attempt makes: one POST with a text body. */
export interface FetchRequest {
  method: string;
  headers: Record<string, string>;
  body: string;
  signal?: AbortSignal;
  redirect?: 'manual';
}

/** What an attempt reads of the answer. */
export interface FetchAnswer {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/**
 * The fetch an attempt uses: the global one, or undici's bound to a dispatcher that checks every address it
 * connects to (services/alarms/webhook-egress.ts). Both fit this shape as they are, without a cast.
 */
export type FetchFn = (url: string, init: FetchRequest) => Promise<FetchAnswer>;

export interface HttpAttempt {
  url: string;
  init: FetchRequest;
  timeoutMs: number;
  fetch?: FetchFn;
  /** turns a 2xx response into a result; e.g. providers that answer 200 with an error code in the body */
  onSuccess?: (res: FetchAnswer, body: string) => Partial<DeliveryResult>;
  /** adds provider detail to a non-2xx error message */
  describeError?: (body: string) => string | undefined;
}

const MAX_ERROR_BODY = 200;

/** Retry-After as delta-seconds or HTTP-date → ms from now (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** 408, 429 and 5xx are the receiver's temporary trouble; other 4xx will not improve by retrying. [docs/formats.md Webhook] */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export async function httpAttempt(a: HttpAttempt): Promise<DeliveryResult> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  const ctrl = new AbortController();
  // one deadline for headers and body, so a receiver that stalls mid-body cannot hold the worker
  const timer = setTimeout(() => ctrl.abort(), a.timeoutMs);
  try {
    const res = await (a.fetch ?? fetch)(a.url, { ...a.init, signal: ctrl.signal, redirect: 'manual' });
    const body = await res.text();
    if (res.status >= 200 && res.status < 300) {
      return { ok: true, status: res.status, retryable: false, latencyMs: latency(), ...a.onSuccess?.(res, body) };
    }
    const retryable = isRetryableStatus(res.status);
    const retryAfterMs = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers.get('retry-after')) : undefined;
    const detail = a.describeError?.(body) ?? body.replace(/\s+/g, ' ').trim().slice(0, MAX_ERROR_BODY);
    return {
      ok: false,
      status: res.status,
      retryable,
      error: `HTTP ${res.status}${detail ? `: ${detail}` : ''}`,
      latencyMs: latency(),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  } catch (err) {
    const timedOut = ctrl.signal.aborted;
    return {
      ok: false,
      retryable: true,
      error: timedOut ? `timeout after ${a.timeoutMs} ms` : `network error: ${networkReason(err)}`,
      latencyMs: latency(),
    };
  } finally {
    clearTimeout(timer);
  }
}

// Only the error code/message: never the request (it carries auth headers or signed bodies).
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
