// One catalogue of stable error codes. [docs/api.md] {"error":{"code","message","details"}}
export const ERRORS = {
  VALIDATION_FAILED: 400,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;
export type ErrorCode = keyof typeof ERRORS;

export class ApiError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.statusCode = ERRORS[code];
  }
}

export const notFound = (what: string, id: string) => new ApiError('NOT_FOUND', `${what} '${id}' does not exist`);
export const conflict = (message: string) => new ApiError('CONFLICT', message);
export const invalid = (message: string, details?: unknown) => new ApiError('VALIDATION_FAILED', message, details);
