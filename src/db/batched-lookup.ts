/** At most this many keys in one query; more wait for the next. */
const MAX_BATCH = 500;
/** A query that has not answered by then fails its lookups (as unreachable: a 503), and the next goes. */
const DEFAULT_TIMEOUT_MS = 5_000;

interface Waiting<K, V> {
  key: K;
  resolve(value: V | undefined): void;
  reject(err: unknown): void;
}

/**
 * Answers many lookups of one kind with few queries. The first goes at once; those asked while a
 * query is in flight wait for it to end and then go together in the next, so a storm of clients
 * reconnecting after a deploy costs a few round trips rather than a query and a pooled connection
 * each. Nothing is cached: each lookup is answered by a query that began after it was asked.
 * Waiting is bounded: a query stuck on a dead connection must not hold up every lookup after it.
 */
export class BatchedLookup<K extends string | number, V> {
  private waiting: Waiting<K, V>[] = [];
  private inFlight = false;

  /** `find` answers a batch of distinct keys, leaving out those it finds nothing for. */
  constructor(
    private readonly find: (keys: K[]) => Promise<Map<K, V>>,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ key, resolve, reject });
      if (!this.inFlight) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.inFlight = true;
    while (this.waiting.length) {
      const batch = this.waiting.splice(0, MAX_BATCH);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`The database did not answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })), this.timeoutMs);
      });
      try {
        const found = await Promise.race([this.find([...new Set(batch.map((waiting) => waiting.key))]), timedOut]);
        for (const waiting of batch) waiting.resolve(found.get(waiting.key));
      } catch (err) {
        for (const waiting of batch) waiting.reject(err);
      } finally {
        clearTimeout(timer);
      }
    }
    this.inFlight = false;
  }
}
