// One catalogue of the process's error codes: what stops a start (main.ts prints the message and exits with the
// code's exit status) and what the HTTP API answers ({"error":{"code","message","details"}} with the code's
// HTTP status). Every code here has its meaning and what to do in docs/errors.md; a test keeps the two equal.
// Callers switch on `code`, never on message text.

interface StartEntry {
  /** exit status of `npm start` */
  exit: 1 | 2;
  meaning: string;
}
interface HttpEntry {
  /** HTTP status of the API's answer */
  status: number;
  meaning: string;
}

export const START_ERRORS = {
  CONFIG_INVALID: { exit: 2, meaning: 'the environment has settings that are missing or wrong (every problem is listed)' },
  PORT_IN_USE: { exit: 1, meaning: 'another program listens on HTTP_PORT or MQTT_PORT' },
  PORT_FORBIDDEN: { exit: 1, meaning: 'the port needs privileges this process does not have (below 1024)' },
  BIND_HOST_UNAVAILABLE: { exit: 1, meaning: 'BIND_HOST is not an address of this machine' },
  DATABASE_REFUSED: { exit: 1, meaning: 'PostgreSQL answered and refused: wrong password, unknown role or database, no CONNECT privilege' },
  DATABASE_UNREACHABLE: { exit: 1, meaning: 'no PostgreSQL answered at DATABASE_URL within the wait (60 s)' },
  MIGRATION_FAILED: { exit: 1, meaning: 'a database migration failed, or an applied one was edited afterwards' },
} as const satisfies Record<string, StartEntry>;

export const HTTP_ERRORS = {
  VALIDATION_FAILED: { status: 400, meaning: 'the request does not match the schema; `details` names each field' },
  BAD_REQUEST: { status: 400, meaning: 'the request cannot be read (malformed JSON, bad header)' },
  UNAUTHORIZED: { status: 401, meaning: 'no bearer token, or an unknown, revoked or expired one' },
  FORBIDDEN: { status: 403, meaning: "the token's role or municipality may not do this" },
  NOT_FOUND: { status: 404, meaning: 'no such route, or no such object (for this municipality)' },
  CONFLICT: { status: 409, meaning: 'the object exists already, or its state does not allow this' },
  PAYLOAD_TOO_LARGE: { status: 413, meaning: 'the body is larger than 1 MiB' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'the body is not JSON (or the form the route takes)' },
  RATE_LIMITED: { status: 429, meaning: 'too many requests, or failed authentications, from this address' },
  INTERNAL: { status: 500, meaning: 'a bug: the log has the request id the message names' },
  UNAVAILABLE: { status: 503, meaning: 'the database does not answer (down, restarting, network cut)' },
  OVERLOADED: { status: 503, meaning: 'every database connection is busy; the request waited and gave up' },
} as const satisfies Record<string, HttpEntry>;

export type StartErrorCode = keyof typeof START_ERRORS;
export type HttpErrorCode = keyof typeof HTTP_ERRORS;
export type ErrorCode = StartErrorCode | HttpErrorCode;

/** A start that cannot succeed as configured; main.ts prints the message and exits with the code's status. */
export class StartError extends Error {
  constructor(
    readonly code: StartErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StartError';
  }
}

/** An error answer of the HTTP API, in the catalogue's format. */
export class ApiError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: HttpErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = HTTP_ERRORS[code].status;
  }
}

/** The catalogue's start entry for an error thrown by a start, if it carries one of its codes. */
export function startFailure(e: unknown): { code: StartErrorCode; exit: 1 | 2; message: string } | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !Object.hasOwn(START_ERRORS, code)) return undefined;
  const c = code as StartErrorCode;
  return { code: c, exit: START_ERRORS[c].exit, message: (e as Error).message };
}
