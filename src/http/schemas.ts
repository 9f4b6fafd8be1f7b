import { z } from 'zod';

/** PostgreSQL `integer`: ids beyond it can never exist, and would make the query fail. */
const MAX_INT = 2_147_483_647;

/** A positive integer id, as a JSON number. */
export const Id = z
  .number({ error: 'must be an integer id' })
  .int('must be an integer id')
  .positive('must be a positive integer id')
  .max(MAX_INT, 'is too large to be an id');

/** Path segments arrive as text: accept only plain digits, so "1e3" or "0x10" are not ids. */
export const PathId = z
  .string()
  .regex(/^\d{1,10}$/, 'must be a positive integer id')
  .transform(Number)
  .pipe(Id);

export const EventIdParams = z.object({ id: PathId.meta({ description: 'Event id' }) });

export const DateTime = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-05-01T09:00:00Z' })
  .meta({ example: '2026-05-01T09:00:00Z' });

/** A date-time in any offset, kept in UTC: one spelling per instant, so equal times compare equal. */
export const UtcTime = DateTime.transform((text) => new Date(text).toISOString());

export const Pagination = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50).meta({ description: 'At most 100' }),
  offset: z.coerce.number().int().min(0).max(MAX_INT).default(0),
});

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });

export const UserRef = z.object({ id: z.number().int(), username: z.string() }).meta({ id: 'UserRef' });

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'validation_error' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

/** An error response, documented in the common shape. */
export const errorResponse = (description: string) => ({ description, schema: ErrorResponse });
