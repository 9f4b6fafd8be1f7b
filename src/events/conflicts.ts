/** An occurrence as the sweep needs it: when, and of which event. */
interface Placed {
  start: Date;
  end: Date;
  event: { id: number };
}

/**
 * The pairs of occurrences of different events that overlap (each starts before the other ends),
 * at most `limit`, in the order of the later one's start. `sorted` is by start. A sweep: each
 * occurrence is paired with the earlier ones that have not ended when it starts.
 */
export function overlappingPairs<T extends Placed>(sorted: T[], limit: number): { pairs: [T, T][]; truncated: boolean } {
  const pairs: [T, T][] = [];
  let open: T[] = [];
  for (const occurrence of sorted) {
    open = open.filter((earlier) => earlier.end > occurrence.start);
    for (const earlier of open) {
      if (earlier.event.id === occurrence.event.id) continue;
      if (pairs.length === limit) return { pairs, truncated: true };
      pairs.push([earlier, occurrence]);
    }
    open.push(occurrence);
  }
  return { pairs, truncated: false };
}
