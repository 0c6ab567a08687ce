// Schemas several route plugins share, and the pieces of every operation's OpenAPI description: the error
// body (one component, its codes from errors.ts) and the response map of an operation. [docs/api.md]
import { z } from 'zod';
import { ERRORS, type ErrorCode } from './errors.ts';

export const idParam = z.object({ id: z.string() });
export const isoTime = z.iso.datetime({ offset: true });
export const orgName = z.string().describe("the municipality ('default' unless several are configured)");

const CODES = Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]];

/** {"error":{"code","message","details"}} — every 4xx and 5xx answer. */
export const errorBody = z
  .object({
    error: z.object({
      code: z.enum(CODES).describe(CODES.map((c) => `${c} (${ERRORS[c]})`).join(', ')),
      message: z.string().describe('for people; may change'),
      details: z.unknown().optional().describe('VALIDATION_FAILED: [{ "path": "body.levels.0.threshold", "message": … }]'),
    }),
  })
  .meta({ id: 'Error', description: 'The one error format; `code` is stable, switch on it. Catalogue: services/api/errors.ts, docs/api.md Errors.' });

type Schema = z.ZodType;

/**
 * The responses of an operation: its success answers plus the error body for 4xx and 5xx. 204 answers have no
 * body (`noContent`).
 */
export function responses<T extends Record<number, Schema>>(ok: T): T & { '4xx': typeof errorBody; '5xx': typeof errorBody } {
  return { ...ok, '4xx': errorBody, '5xx': errorBody };
}

export const noContent = z.undefined().describe('no content');

/** A list answer: {"items":[…]}. */
export const itemsOf = <T extends Schema>(item: T) => z.object({ items: z.array(item) });

/** A bigserial id as the drivers hand it over (a number; coerced in case one hands over a string). */
export const dbId = z.coerce.number().int();
