import { diffChars } from 'diff';
import * as Y from 'yjs';
import type { z } from 'zod';
import type { EventSnapshot } from '../db/entities';
import { EVENT_FIELDS, type EventField } from '../events/fields';
import { assertValidEvent } from '../events/rules';
import { CreateEventBody } from '../events/schemas';
import { TEXT_MAX_LENGTH } from '../events/text-fields';
import { ValidationFailed, type FieldIssue } from '../http/errors';
import { parse } from '../http/validation';

/**
 * The layout of an event's Yjs document: one Y.Map named `event`. Text fields are Y.Text, so
 * concurrent typing merges character by character; the others are plain values (last writer wins).
 */
export const ROOT = 'event';
export const TEXT_FIELDS = ['title', 'description', 'location'] as const;
export type TextField = (typeof TEXT_FIELDS)[number];

const isTextField = (field: string): field is TextField => (TEXT_FIELDS as readonly string[]).includes(field);

/**
 * An empty document. Yjs would give it a random guid, which costs 31 calls to WebCrypto (a tenth
 * of a millisecond, twice in every write); a guid only names subdocuments, which ours never are.
 */
function emptyDocument(): Y.Doc {
  return new Y.Doc({ guid: ROOT });
}

/** A new document holding the event's fields. */
export function createDocument(snapshot: EventSnapshot): Y.Doc {
  const doc = emptyDocument();
  doc.transact(() => {
    const map = doc.getMap(ROOT);
    for (const field of EVENT_FIELDS) {
      if (isTextField(field)) map.set(field, new Y.Text(snapshot[field] ?? ''));
      else map.set(field, snapshot[field]);
    }
  });
  return doc;
}

/** Rebuilds a document from its stored state and the updates made since. */
export function loadDocument(state: Uint8Array, updates: Iterable<Uint8Array> = []): Y.Doc {
  const doc = emptyDocument();
  Y.applyUpdate(doc, state);
  for (const update of updates) Y.applyUpdate(doc, update);
  return doc;
}

/**
 * The event the document describes, checked with the same rules as a REST write; throws
 * ValidationFailed when the document is malformed or the event it holds would be invalid.
 */
export function readEvent(doc: Y.Doc): EventSnapshot {
  const raw: Record<string, unknown> = {};
  const problems: { path: string; message: string }[] = [];
  for (const [name, type] of doc.share) {
    // A root exists once an update names it; only one holding something is a problem.
    if (name !== ROOT && liveItems(type).length > 0) {
      problems.push({ path: name, message: `is not part of the document (only "${ROOT}" is)` });
    }
  }
  const map = doc.getMap(ROOT);
  for (const [key, value] of map.entries()) {
    if (!(EVENT_FIELDS as readonly string[]).includes(key)) problems.push({ path: `body.${key}`, message: 'is not a known field' });
    else if (isTextField(key) !== value instanceof Y.Text) {
      problems.push({ path: `body.${key}`, message: isTextField(key) ? 'must be a Y.Text' : 'must be a plain value' });
    } else raw[key] = value instanceof Y.Text ? value.toString() : value;
  }
  if (doc.store.pendingStructs || doc.store.pendingDs) {
    problems.push({ path: 'update', message: 'depends on changes the server does not have; sync first' });
  }
  if (problems.length) throw new ValidationFailed(problems, 'The document is malformed');
  const snapshot = parse(CreateEventBody, raw, 'body');
  assertValidEvent(snapshot);
  return snapshot;
}

/** One-field schemas, for checking an edit that touched only text. */
const TEXT_FIELD_SCHEMAS: Record<TextField, z.ZodType> = {
  title: CreateEventBody.pick({ title: true }),
  description: CreateEventBody.pick({ description: true }),
  location: CreateEventBody.pick({ location: true }),
};

/** What an update changed: each type whose content changed, with the map keys it set. */
export type Changes = Map<Y.AbstractType<any>, Set<string | null>>;

/** Applies an update and tells what it changed. */
export function applyUpdateNoting(doc: Y.Doc, update: Uint8Array): Changes {
  const changes: Changes = new Map();
  const note = (transaction: Y.Transaction) => {
    for (const [type, keys] of transaction.changed) changes.set(type, new Set([...(changes.get(type) ?? []), ...keys]));
  };
  doc.on('afterTransaction', note);
  try {
    Y.applyUpdate(doc, update);
  } finally {
    doc.off('afterTransaction', note);
  }
  return changes;
}

/** The event fields the changes touched, and whether they were all typing into the texts. */
function touchedFields(doc: Y.Doc, changes: Changes): { fields: Set<EventField>; onlyText: boolean } {
  const map = doc.getMap(ROOT);
  const fields = new Set<EventField>();
  let onlyText = true;
  for (const [type, keys] of changes) {
    const textField = TEXT_FIELDS.find((field) => map.get(field) === type);
    if (textField) {
      fields.add(textField);
      continue;
    }
    onlyText = false;
    if ((type as unknown) !== map) continue;
    for (const key of keys) if (key && (EVENT_FIELDS as readonly string[]).includes(key)) fields.add(key as EventField);
  }
  return { fields, onlyText };
}

/** Applies an update and tells which event fields it touched, for changelog authorship. */
export function applyTracked(doc: Y.Doc, update: Uint8Array): Set<EventField> {
  return touchedFields(doc, applyUpdateNoting(doc, update)).fields;
}

/**
 * Like readEvent, but cheaper when the changes only typed into the event's texts (the common
 * case, one keystroke): then only those texts can have broken a rule.
 */
export function assertValidAfter(doc: Y.Doc, changes: Changes): void {
  const { fields, onlyText } = touchedFields(doc, changes);
  if (!onlyText || doc.store.pendingStructs || doc.store.pendingDs) {
    readEvent(doc);
    return;
  }
  for (const field of fields as Set<TextField>) assertValidText(field, readText(doc, field));
}

/** Checks one text field's value with the REST rules; throws ValidationFailed. */
export function assertValidText(field: TextField, value: string): void {
  parse(TEXT_FIELD_SCHEMAS[field], { [field]: value }, 'body');
}

/** The current value of a text field. */
export function readText(doc: Y.Doc, field: TextField): string {
  return String(doc.getMap(ROOT).get(field) ?? '');
}

/** Edits a text field to `value` by its minimal character changes. */
export function setText(doc: Y.Doc, field: TextField, value: string): void {
  editText(doc.getMap(ROOT).get(field) as Y.Text, value);
}

/** What a typing update does to each text it touches: characters it inserts, whether it deletes. */
export type Typing = Map<TextField, { inserted: number; deletes: boolean }>;

/**
 * What an update types into the event's texts, or null if it does anything else. Typing means: it
 * inserts plain characters into, or deletes characters of, the event's existing texts, and
 * everything it builds on is already in the document. Such an update cannot fail to apply and can
 * break no rule but those of the texts it touches, so it needs no trial copy of the document
 * (the common case: one keystroke). Null means "check it the long way", never "refuse it".
 */
export function typedFields(doc: Y.Doc, update: Uint8Array): Typing | null {
  if (doc.store.pendingStructs || doc.store.pendingDs) return null;
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch {
    return null;
  }
  const map = doc.getMap(ROOT);
  const textOf = new Map<Y.AbstractType<any>, TextField>();
  for (const field of TEXT_FIELDS) {
    const text = map.get(field);
    if (text instanceof Y.Text) textOf.set(text, field);
  }
  const typing: Typing = new Map();
  const typed = (field: TextField) => {
    let effect = typing.get(field);
    if (!effect) typing.set(field, (effect = { inserted: 0, deletes: false }));
    return effect;
  };
  // Characters this update inserts, by client: a later insert may build on an earlier one.
  const inserted = new Map<number, { clock: number; end: number; field: TextField }[]>();
  const known = (id: Y.ID) => id.clock < Y.getState(doc.store, id.client);
  // The text a character (or, for `parent`, the text itself) belongs to, if it is one of ours.
  const fieldAt = (id: Y.ID): TextField | undefined => {
    if (!known(id)) return inserted.get(id.client)?.find((range) => range.clock <= id.clock && id.clock < range.end)?.field;
    const item = Y.getItem(doc.store, id);
    return item instanceof Y.Item ? textOf.get(item.parent as Y.AbstractType<any>) : undefined;
  };
  const textAt = (id: Y.ID): TextField | undefined => {
    if (!known(id)) return undefined;
    const item = Y.getItem(doc.store, id);
    return item instanceof Y.Item && item.content instanceof Y.ContentType && !item.deleted ? textOf.get(item.content.type) : undefined;
  };

  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentString) || struct.parentSub !== null) return null;
    const { client, clock } = struct.id;
    const ranges = inserted.get(client) ?? [];
    // No gap before it: the client's earlier changes are here (or earlier in this update).
    if (clock > (ranges.at(-1)?.end ?? Y.getState(doc.store, client))) return null;
    const sides = [struct.origin, struct.rightOrigin].filter((id): id is Y.ID => id !== null).map(fieldAt);
    const field = sides.length ? sides[0] : struct.parent instanceof Y.ID ? textAt(struct.parent) : undefined;
    if (!field || sides.some((side) => side !== field)) return null;
    typed(field).inserted += struct.length;
    ranges.push({ clock, end: clock + struct.length, field });
    inserted.set(client, ranges);
  }

  for (const [client, deletions] of decoded.ds.clients) {
    const structs = doc.store.clients.get(client);
    for (const { clock, len } of deletions) {
      if (!structs || clock + len > Y.getState(doc.store, client)) return null;
      for (let index = Y.findIndexSS(structs, clock); index < structs.length && structs[index].id.clock < clock + len; index += 1) {
        const struct = structs[index];
        const field = struct instanceof Y.Item ? textOf.get(struct.parent as Y.AbstractType<any>) : undefined;
        if (!field) return null;
        typed(field).deletes = true;
      }
    }
  }
  return typing;
}

/**
 * Whether typing surely leaves its texts valid, known before it is applied: it only inserts, and
 * no text grows past its limit. Inserting cannot blank a title, and the document's texts are
 * valid to begin with: every change that reaches it is checked, and what two processes accept at
 * the same moment and only together breaks a rule is repaired at the next version.
 */
export function keepsTextsValid(doc: Y.Doc, typing: Typing): boolean {
  const map = doc.getMap(ROOT);
  for (const [field, { inserted, deletes }] of typing) {
    if (deletes || (map.get(field) as Y.Text).length + inserted > TEXT_MAX_LENGTH[field]) return false;
  }
  return true;
}

/**
 * Edits the document so it holds `patch`: texts by their minimal character changes, so edits
 * others make concurrently elsewhere in the same text survive the merge; plain values are set.
 */
export function applyPatch(doc: Y.Doc, patch: Partial<EventSnapshot>): void {
  const map = doc.getMap(ROOT);
  doc.transact(() => {
    for (const [field, value] of Object.entries(patch) as [EventField, unknown][]) {
      if (value === undefined) continue;
      if (isTextField(field)) editText(map.get(field) as Y.Text, (value as string | null) ?? '');
      else if (JSON.stringify(map.get(field)) !== JSON.stringify(value)) map.set(field, value);
    }
  });
}

/**
 * Edits `doc` back to the fields `source` holds (all, or those given), removing anything the event
 * layout does not have: the compensating edit for an update that broke the rules.
 */
export function restoreFrom(doc: Y.Doc, source: Y.Doc, fields: readonly EventField[] = EVENT_FIELDS): void {
  const map = doc.getMap(ROOT);
  const original = source.getMap(ROOT);
  doc.transact((transaction) => {
    for (const [name, type] of doc.share) {
      if (name !== ROOT) for (const item of liveItems(type)) item.delete(transaction);
    }
    for (const key of [...map.keys()]) if (!original.has(key)) map.delete(key);
    for (const field of fields) {
      const wanted = original.get(field);
      const current = map.get(field);
      if (wanted instanceof Y.Text) {
        if (current instanceof Y.Text) editText(current, wanted.toString());
        else map.set(field, new Y.Text(wanted.toString()));
      } else if (JSON.stringify(current) !== JSON.stringify(wanted) || current instanceof Y.AbstractType) {
        map.set(field, wanted);
      }
    }
  });
}

/**
 * Makes `doc` a valid event again if it is not one, by putting back from `source` the fields the
 * rules name; then, while it is still invalid, the plain values one by one (the rules between
 * fields relate only those: times, recurrence); every field as a last resort, so typing in the
 * texts is kept whenever it can be. Returns that edit, or null when none was needed.
 */
export function repairFrom(doc: Y.Doc, source: Y.Doc): Uint8Array | null {
  const issues = problemsOf(doc);
  if (!issues) return null;
  const named = EVENT_FIELDS.filter((field) => issues.some((issue) => issue.path === `body.${field}` || issue.path.startsWith(`body.${field}.`)));
  return captureUpdate(doc, () => {
    restoreFrom(doc, source, named);
    for (const field of EVENT_FIELDS.filter((field) => !isTextField(field))) {
      if (!problemsOf(doc)) return;
      restoreFrom(doc, source, [field]);
    }
    if (problemsOf(doc)) restoreFrom(doc, source);
  });
}

function problemsOf(doc: Y.Doc): FieldIssue[] | null {
  try {
    readEvent(doc);
    return null;
  } catch (err) {
    if (err instanceof ValidationFailed) return err.issues;
    throw err;
  }
}

/** The undeleted content of a type of any kind: its map entries and its list items. */
function liveItems(type: Y.AbstractType<any>): Y.Item[] {
  const items = [...type._map.values()].filter((item) => !item.deleted);
  for (let item = type._start; item; item = item.right) if (!item.deleted) items.push(item);
  return items;
}

/** Runs `edit` and returns the Yjs update it made, or null if it changed nothing. */
export function captureUpdate(doc: Y.Doc, edit: () => void): Uint8Array | null {
  const updates: Uint8Array[] = [];
  const collect = (update: Uint8Array) => updates.push(update);
  doc.on('update', collect);
  try {
    edit();
  } finally {
    doc.off('update', collect);
  }
  return updates.length ? Y.mergeUpdates(updates) : null;
}

/** A pathological pair of texts is replaced in one edit rather than diffed for long. */
const DIFF_TIMEOUT_MS = 50;

function editText(text: Y.Text, next: string): void {
  const current = text.toString();
  if (current === next) return;
  const parts = diffChars(current, next, { timeout: DIFF_TIMEOUT_MS }) ?? [
    { value: current, removed: true, added: false, count: 1 },
    { value: next, added: true, removed: false, count: 1 },
  ];
  let index = 0;
  for (const part of parts) {
    if (part.added) {
      text.insert(index, part.value);
      index += part.value.length;
    } else if (part.removed) {
      text.delete(index, part.value.length);
    } else {
      index += part.value.length;
    }
  }
}
