import { createHash } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { RateLimiterPostgres, type RateLimiterRes } from 'rate-limiter-flexible';
import { TooManyRequests } from '../http/errors';

export interface PasswordThrottleOptions {
  logins: {
    /** Failed logins allowed per account and client address in a window... */
    failuresPerAccount: number;
    /** ...and per client address, whichever accounts they name... */
    failuresPerAddress: number;
    /** ...which starts at the first failure and lasts this long. */
    windowSeconds: number;
  };
  registrations: { perAddress: number; windowSeconds: number };
}

/**
 * Counts the requests that make the server check or hash a password, per client address: an
 * argon2 hash is the costliest work a stranger can ask of the server. Past a limit, requests are
 * refused before any hashing, until the window ends. The counts are in PostgreSQL so that every
 * process counts the same, each attempt counted as it starts, in one atomic statement: attempts
 * sent all at once cannot all pass a check made before any of them failed.
 *
 * Logins count per account and address, so a stranger cannot lock an account's owner out by
 * failing on purpose, and per address over all accounts, so one address cannot try a password
 * on every account (or make the server check passwords for names that do not exist); a success
 * takes itself off both counts, so what they hold is failures. Registrations count per address.
 */
export class PasswordThrottle {
  private readonly accountFailures: RateLimiterPostgres;
  private readonly addressFailures: RateLimiterPostgres;
  private readonly registrations: RateLimiterPostgres;

  constructor(
    private readonly orm: MikroORM,
    private readonly options: PasswordThrottleOptions,
  ) {
    const { logins, registrations } = options;
    this.accountFailures = this.limiter('login', logins.failuresPerAccount, logins.windowSeconds);
    this.addressFailures = this.limiter('login-address', logins.failuresPerAddress, logins.windowSeconds);
    this.registrations = this.limiter('register', registrations.perAddress, registrations.windowSeconds);
  }

  /** Counts a login as it starts; refuses it, with the seconds left to wait, past either limit. */
  async loginAttempt(identifier: string, address: string): Promise<void> {
    const [account, everyAccount] = await Promise.all([
      this.count(this.accountFailures, keyOf(identifier, address)),
      this.count(this.addressFailures, keyOf(address)),
    ]);
    if (account.consumedPoints > this.options.logins.failuresPerAccount) refuse('Too many failed logins', account);
    if (everyAccount.consumedPoints > this.options.logins.failuresPerAddress) refuse('Too many failed logins from this address', everyAccount);
  }

  async loginSucceeded(identifier: string, address: string): Promise<void> {
    await Promise.all([this.accountFailures.delete(keyOf(identifier, address)), this.addressFailures.reward(keyOf(address), 1)]);
  }

  /** Counts a registration as it starts; refuses it past the limit. */
  async registrationAttempt(address: string): Promise<void> {
    const counted = await this.count(this.registrations, keyOf(address));
    if (counted.consumedPoints > this.options.registrations.perAddress) refuse('Too many registrations from this address', counted);
  }

  private limiter(keyPrefix: string, points: number, duration: number): RateLimiterPostgres {
    return new RateLimiterPostgres({
      storeClient: this.orm.em.getConnection().getKnex(),
      storeType: 'knex',
      tableName: 'password_attempt',
      tableCreated: true, // by a migration
      // Its timer cannot be stopped; expired rows are cleared as new windows start instead.
      clearExpiredByTimeout: false,
      keyPrefix,
      points,
      duration,
    });
  }

  private async count(limiter: RateLimiterPostgres, key: string): Promise<RateLimiterRes> {
    const counted = await limiter.penalty(key);
    if (counted.consumedPoints === 1) {
      // A window started: a row was made, so clear those whose windows are over.
      await this.orm.em.getConnection().execute('delete from password_attempt where expire < ?', [Date.now()]);
    }
    return counted;
  }
}

function refuse(reason: string, counted: RateLimiterRes): never {
  const wait = Math.max(1, Math.ceil(counted.msBeforeNext / 1000));
  throw new TooManyRequests(`${reason}: try again in ${wait} s`, wait);
}

/** Hashed, so the table holds no one's email, username or address. */
function keyOf(...parts: string[]): string {
  return createHash('sha256').update(parts.map((part) => part.toLowerCase()).join('\n')).digest('hex');
}
