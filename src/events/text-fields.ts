import { z } from 'zod';

/** The longest each text may be, in UTF-16 code units (JavaScript's string length, and Yjs's). */
export const TEXT_MAX_LENGTH = { title: 200, description: 10_000, location: 500 } as const;

const atMost = (field: keyof typeof TEXT_MAX_LENGTH) => [TEXT_MAX_LENGTH[field], `must be at most ${TEXT_MAX_LENGTH[field]} characters`] as const;

/** An event's texts as requests give them: its own, or one occurrence's in place of the series'. */
export const Title = z.string().trim().min(1, 'must not be empty').max(...atMost('title'));
export const Description = z.string().max(...atMost('description'));
export const Location = z
  .string()
  .trim()
  .max(...atMost('location'))
  .nullable()
  .transform((text) => text || null);
