import type { EventSnapshot } from '../db/entities';
import { ValidationFailed, type FieldIssue } from '../http/errors';

/**
 * The rules every stored state of an event obeys, whichever way it was written. Field rules live
 * in the request schemas; these relate fields to each other, so they run on the merged result.
 * `at` is where the event is in the request, for the problems' paths.
 */
export function assertValidEvent(state: EventSnapshot, at = 'body'): void {
  const issues: FieldIssue[] = [];
  const start = Date.parse(state.start_time);
  if (Date.parse(state.end_time) <= start) issues.push({ path: `${at}.end_time`, message: 'must be after start_time' });
  if (state.is_recurring && !state.recurrence_pattern) {
    issues.push({ path: `${at}.recurrence_pattern`, message: 'is required when is_recurring is true' });
  }
  if (!state.is_recurring && state.recurrence_pattern) {
    issues.push({ path: `${at}.recurrence_pattern`, message: 'must be null when is_recurring is false' });
  }
  const until = state.recurrence_pattern?.until;
  if (typeof until === 'string' && Date.parse(until) < start) {
    issues.push({ path: `${at}.recurrence_pattern.until`, message: 'must not be before start_time' });
  }
  if (issues.length) throw new ValidationFailed(issues, 'The event would be invalid');
}
