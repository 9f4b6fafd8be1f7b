import type { z } from 'zod';
import { ValidationFailed, type FieldIssue } from './errors';

/** The parsed value, or a ValidationFailed naming each problem under `where` (body, query, path). */
export function parse<T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): z.output<T> {
  if (!schema) return {} as z.output<T>;
  // The input on each issue tells a missing field from a wrong one.
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  throw new ValidationFailed(fieldIssues(result.error.issues, [where]));
}

/** Flattens zod issues; for a union, reports the alternative that came closest to matching. */
function fieldIssues(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[]): FieldIssue[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const closest = issue.errors.reduce((best, option) => (option.length < best.length ? option : best));
      return fieldIssues(closest, path);
    }
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key].map(String).join('.'), message: 'is not a known field' }));
    }
    // A schema's own message describes a bad value (a time without a zone, ...), not a missing one.
    const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
    return [{ path: path.map(String).join('.'), message }];
  });
}
