import { TooManyRequests } from './errors';

export interface Rate {
  /** How many at once... */
  burst: number;
  /** ...and each second after that. */
  perSecond: number;
}

/**
 * What one client may spend, as a token bucket: `burst` at once, refilled at `perSecond`. Every
 * request or message costs the server work (a query, an update stored and written to a room), and
 * some cost time that the client chooses (a rule that takes long to expand), so one client cannot
 * take the server from the others. The limits are far above what a person's client sends.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt = performance.now();

  /** `what` names what is counted, for the refusal: "requests", "messages", "milliseconds of ...". */
  constructor(
    private readonly rate: Rate,
    private readonly what: string,
  ) {
    this.tokens = rate.burst;
  }

  /** Spends one; refuses it, with the seconds until the next is accepted, when none is left. */
  spend(): void {
    this.ensureAvailable();
    this.tokens -= 1;
  }

  /** Refuses, with the seconds until one is, when not even one is left. */
  ensureAvailable(): void {
    if (this.available < 1) {
      const wait = Math.max(1, Math.ceil((1 - this.tokens) / this.rate.perSecond));
      throw new TooManyRequests(`Too many ${this.what}: send again in ${wait} s`, wait);
    }
  }

  /** What is left now; less than nothing after a `take` of more than there was. */
  get available(): number {
    const now = performance.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.rate.perSecond);
    this.refilledAt = now;
    return this.tokens;
  }

  /** Takes what was used, which may be more than was left: the bucket then refills from below zero. */
  take(amount: number): void {
    this.tokens -= amount;
  }

  /** Whether it has refilled, and so holds nothing that a new bucket would not. */
  get full(): boolean {
    return this.available >= this.rate.burst;
  }
}

/** Buckets kept before full ones are forgotten: a sweep costs one visit of each. */
const SWEEP_AT = 10_000;

/** A bucket per key (a user), in this process's memory. */
export class RateLimiter<Key> {
  private readonly buckets = new Map<Key, TokenBucket>();
  private sweepAt = SWEEP_AT;

  constructor(
    private readonly rate: Rate,
    private readonly what: string,
  ) {}

  spend(key: Key): void {
    this.bucketOf(key).spend();
  }

  bucketOf(key: Key): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.sweepAt) this.sweep();
      bucket = new TokenBucket(this.rate, this.what);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Forgets the buckets that have refilled; sweeps again once as many more are kept. */
  private sweep(): void {
    for (const [key, bucket] of this.buckets) if (bucket.full) this.buckets.delete(key);
    this.sweepAt = this.buckets.size + SWEEP_AT;
  }
}
