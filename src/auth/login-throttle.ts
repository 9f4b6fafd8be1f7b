import { createHash } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import { TooManyRequests } from '../http/errors';

export interface LoginThrottleOptions {
  /** Failed logins allowed per account and client address in a window... */
  failures: number;
  /** ...which starts at the first failure and lasts this long. */
  windowSeconds: number;
}

/**
 * Counts logins per account and client address, in PostgreSQL so that every process counts the
 * same; a success clears the count, so what it holds is failures (and attempts still running).
 * Past the limit, logins to that account from that address are refused until the window ends,
 * before any password check: argon2 is the costliest work a stranger can ask of the server. An
 * attempt is counted as it starts, in one atomic statement, so attempts sent all at once cannot
 * all pass a check made before any of them failed. Counting by address as well as account means
 * a stranger cannot lock an account's owner out by failing on purpose.
 */
export class LoginThrottle {
  private readonly limiter: RateLimiterPostgres;

  constructor(
    private readonly orm: MikroORM,
    private readonly options: LoginThrottleOptions,
  ) {
    this.limiter = new RateLimiterPostgres({
      storeClient: orm.em.getConnection().getKnex(),
      storeType: 'knex',
      tableName: 'login_failure',
      tableCreated: true, // by a migration
      // Its timer cannot be stopped; expired rows are cleared as new windows start instead.
      clearExpiredByTimeout: false,
      keyPrefix: 'login',
      points: options.failures,
      duration: options.windowSeconds,
    });
  }

  /** Counts an attempt; refuses it, with the seconds left to wait, past the limit. */
  async attempt(identifier: string, address: string): Promise<void> {
    const counted = await this.limiter.penalty(keyOf(identifier, address));
    if (counted.consumedPoints === 1) {
      // A window started: a row was made, so clear those whose windows are over.
      await this.orm.em.getConnection().execute('delete from login_failure where expire < ?', [Date.now()]);
    }
    if (counted.consumedPoints > this.options.failures) {
      const wait = Math.max(1, Math.ceil(counted.msBeforeNext / 1000));
      throw new TooManyRequests(`Too many failed logins: try again in ${wait} s`, wait);
    }
  }

  async succeeded(identifier: string, address: string): Promise<void> {
    await this.limiter.delete(keyOf(identifier, address));
  }
}

/** Hashed, so the table holds no one's email, username or address. */
function keyOf(identifier: string, address: string): string {
  return createHash('sha256').update(`${identifier.toLowerCase()}\n${address}`).digest('hex');
}
