import { diffLines, diffWords } from 'diff';
import { changedFields, type EventSnapshot } from '../events/fields';

export type ChangeType = 'added' | 'removed' | 'modified';

export interface TextDiffPart {
  op: 'equal' | 'insert' | 'delete';
  text: string;
}

export interface FieldDiff {
  field: string;
  old_value: unknown;
  new_value: unknown;
  change_type: ChangeType;
  /** For long text: what was kept, inserted and deleted, by line (multi-line text) or by word. */
  text_diff?: { granularity: 'line' | 'word'; parts: TextDiffPart[] };
}

/** Fields long enough that a whole-value comparison hides what changed. */
const LONG_TEXT_FIELDS = new Set(['description']);
/** A pathological pair of texts gets no text diff rather than a slow response. */
const TEXT_DIFF_TIMEOUT_MS = 200;

export function diffSnapshots(from: EventSnapshot, to: EventSnapshot): FieldDiff[] {
  return changedFields(from, to).map(({ field, old_value, new_value }) => {
    const change: FieldDiff = { field, old_value, new_value, change_type: changeType(old_value, new_value) };
    if (LONG_TEXT_FIELDS.has(field) && typeof old_value === 'string' && typeof new_value === 'string') {
      const textDiff = diffText(old_value, new_value);
      if (textDiff) change.text_diff = textDiff;
    }
    return change;
  });
}

function changeType(oldValue: unknown, newValue: unknown): ChangeType {
  if (isBlank(oldValue)) return 'added';
  if (isBlank(newValue)) return 'removed';
  return 'modified';
}

function isBlank(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

function diffText(oldText: string, newText: string): FieldDiff['text_diff'] {
  const granularity = oldText.includes('\n') || newText.includes('\n') ? 'line' : 'word';
  const options = { timeout: TEXT_DIFF_TIMEOUT_MS };
  const parts = granularity === 'line' ? diffLines(oldText, newText, options) : diffWords(oldText, newText, options);
  if (!parts) return undefined;
  return {
    granularity,
    parts: parts.map((part) => ({ op: part.added ? 'insert' : part.removed ? 'delete' : 'equal', text: part.value })),
  };
}
