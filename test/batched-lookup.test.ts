import { BatchedLookup } from '../src/db/batched-lookup';
import { isUnreachable } from '../src/db/unreachable';

/** A lookup whose queries answer when the test says (even keys are found), recording each query's keys. */
function controlledLookup(timeoutMs?: number) {
  const batches: number[][] = [];
  const inFlight: { keys: number[]; resolve(found: Map<number, string>): void; reject(err: Error): void }[] = [];
  const lookup = new BatchedLookup<number, string>(
    (keys) =>
      new Promise((resolve, reject) => {
        batches.push(keys);
        inFlight.push({ keys, resolve, reject });
      }),
    timeoutMs,
  );
  return {
    lookup,
    batches,
    answerNext() {
      const { keys, resolve } = inFlight.shift()!;
      resolve(new Map(keys.filter((key) => key % 2 === 0).map((key) => [key, `value ${key}`])));
    },
    failNext: () => inFlight.shift()!.reject(new Error('database down')),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('BatchedLookup', () => {
  it('asks at once, then asks together for what came while a query was in flight', async () => {
    const { lookup, batches, answerNext } = controlledLookup();
    const first = lookup.load(2);
    expect(batches).toEqual([[2]]);
    const rest = [lookup.load(4), lookup.load(3), lookup.load(4), lookup.load(6)];
    expect(batches).toHaveLength(1);

    answerNext();
    expect(await first).toBe('value 2');
    await settle();
    expect(batches).toEqual([[2], [4, 3, 6]]);
    answerNext();
    expect(await Promise.all(rest)).toEqual(['value 4', undefined, 'value 4', 'value 6']);

    // Idle again: the next lookup goes at once.
    const later = lookup.load(8);
    expect(batches).toHaveLength(3);
    answerNext();
    expect(await later).toBe('value 8');
  });

  it('fails only the lookups of a query that failed', async () => {
    const { lookup, batches, answerNext, failNext } = controlledLookup();
    const failing = lookup.load(2);
    const next = lookup.load(4);
    failNext();
    await expect(failing).rejects.toThrow('database down');
    await settle();
    expect(batches).toEqual([[2], [4]]);
    answerNext();
    expect(await next).toBe('value 4');
  });

  it('gives up on a query that does not answer, failing its lookups as unreachable, and goes on', async () => {
    const { lookup, batches, answerNext } = controlledLookup(50);
    const stuck = lookup.load(2);
    const next = lookup.load(4);
    await expect(stuck).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(isUnreachable(await stuck.catch((err: unknown) => err))).toBe(true);
    await settle();
    expect(batches).toEqual([[2], [4]]);
    answerNext(); // the stuck query's answer, late: ignored
    answerNext();
    expect(await next).toBe('value 4');
  });
});
