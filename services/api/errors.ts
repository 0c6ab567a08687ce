// The API's part of the process's error catalogue (services/errors.ts, docs/errors.md):
// {"error":{"code","message","details"}} with a stable code and its HTTP status. [docs/api.md]
import { ApiError, HTTP_ERRORS, type HttpErrorCode } from '../errors.ts';

export { ApiError };
export type ErrorCode = HttpErrorCode;

/** code → HTTP status */
export const ERRORS = Object.fromEntries(Object.entries(HTTP_ERRORS).map(([code, e]) => [code, e.status])) as {
  readonly [C in HttpErrorCode]: (typeof HTTP_ERRORS)[C]['status'];
};

export const notFound = (what: string, id: string) => new ApiError('NOT_FOUND', `${what} '${id}' does not exist`);
export const conflict = (message: string) => new ApiError('CONFLICT', message);
export const invalid = (message: string, details?: unknown) => new ApiError('VALIDATION_FAILED', message, details);
