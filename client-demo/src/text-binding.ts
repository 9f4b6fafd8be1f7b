import * as Y from 'yjs';

/** Marks the edits a binding makes, so it does not echo them back into its own element. */
const FROM_ELEMENT = Symbol('from element');

/**
 * Keeps an <input> or <textarea> and a Y.Text in step. Typing becomes the smallest edit (one
 * range replaced), so others' concurrent typing elsewhere in the text survives the merge; edits
 * from elsewhere update the element and keep the caret where it was relative to the text.
 * Returns a function that undoes the binding.
 */
export function bindText(element: HTMLInputElement | HTMLTextAreaElement, text: Y.Text): () => void {
  element.value = text.toString();

  const onInput = () => {
    const before = text.toString();
    const after = element.value;
    let start = 0;
    while (start < before.length && start < after.length && before[start] === after[start]) start += 1;
    let endBefore = before.length;
    let endAfter = after.length;
    while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
      endBefore -= 1;
      endAfter -= 1;
    }
    text.doc!.transact(() => {
      if (endBefore > start) text.delete(start, endBefore - start);
      if (endAfter > start) text.insert(start, after.slice(start, endAfter));
    }, FROM_ELEMENT);
  };

  const onChange = (event: Y.YTextEvent, transaction: Y.Transaction) => {
    if (transaction.origin === FROM_ELEMENT) return;
    let selectionStart = element.selectionStart ?? 0;
    let selectionEnd = element.selectionEnd ?? 0;
    let index = 0;
    for (const op of event.delta) {
      if (op.retain) {
        index += op.retain;
      } else if (typeof op.insert === 'string') {
        // Text inserted exactly at the caret goes after it: the caret stays at the end of what you
        // typed, so your next keystrokes build on your own, and two people's words do not interleave.
        if (index < selectionStart) selectionStart += op.insert.length;
        if (index < selectionEnd) selectionEnd += op.insert.length;
        index += op.insert.length;
      } else if (op.delete) {
        selectionStart -= Math.max(0, Math.min(op.delete, selectionStart - index));
        selectionEnd -= Math.max(0, Math.min(op.delete, selectionEnd - index));
      }
    }
    element.value = text.toString();
    // Setting the value puts the caret at the end: put it back (also in a tab in the background).
    element.setSelectionRange(selectionStart, selectionEnd);
  };

  element.addEventListener('input', onInput);
  text.observe(onChange);
  return () => {
    element.removeEventListener('input', onInput);
    text.unobserve(onChange);
  };
}
