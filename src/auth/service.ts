import { randomUUID } from 'node:crypto';
import { LockMode, sql, UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { AppConfig } from '../config';
import { AuthSession, RefreshToken, User } from '../db/entities';
import { BatchedLookup } from '../db/batched-lookup';
import { Conflict, Unauthorized } from '../http/errors';
import type { Caller } from '../http/route';
import type { SessionFeed } from './feed';
import type { PasswordThrottle } from './password-throttle';
import { hashPassword, verifyAgainstDecoy, verifyPassword } from './passwords';
import { AccessTokens, hashOpaqueToken, newOpaqueToken } from './tokens';

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: User;
}

/** A session that is not revoked and whose user is active. */
interface LiveSession {
  userId: number;
  username: string;
}

const BAD_CREDENTIALS = 'Incorrect username or password';
const BAD_REFRESH_TOKEN = 'Invalid or expired refresh token';

export class AuthService {
  private readonly accessTokens: AccessTokens;
  /** The guard runs on every request and socket connect: concurrent checks share queries. */
  private readonly liveSessionLookup = new BatchedLookup((sessionIds: string[]) => this.findLiveSessions(sessionIds));

  constructor(
    private readonly orm: MikroORM,
    private readonly settings: AppConfig['jwt'],
    private readonly sessions: SessionFeed,
    private readonly passwordThrottle: PasswordThrottle,
  ) {
    this.accessTokens = new AccessTokens(settings);
  }

  private get em(): EntityManager {
    return this.orm.em;
  }

  /** `address` is the client's, for throttling. */
  async register(input: { email: string; username: string; password: string }, address: string): Promise<User> {
    await this.passwordThrottle.registrationAttempt(address);
    const email = input.email.toLowerCase();
    await this.assertUnclaimed(email, input.username);
    const user = this.em.create(User, { email, username: input.username, hashedPassword: await hashPassword(input.password) });
    try {
      await this.em.persist(user).flush();
    } catch (err) {
      // Lost a race with a registration of the same name since the check above.
      if (err instanceof UniqueConstraintViolationException) throw new Conflict('Email or username is already registered');
      throw err;
    }
    return user;
  }

  /** `identifier` is a username (any case) or an email; `address` is the client's, for throttling. */
  async login(identifier: string, password: string, address: string): Promise<IssuedTokens> {
    await this.passwordThrottle.loginAttempt(identifier, address);
    const user = await this.em.findOne(
      User,
      identifier.includes('@') ? { email: identifier.toLowerCase() } : { [sql.lower('username')]: identifier.toLowerCase() },
      { populate: ['hashedPassword'] },
    );
    const valid = user ? await verifyPassword(user.hashedPassword, password) : await verifyAgainstDecoy(password);
    if (!user || !valid || !user.isActive) throw new Unauthorized(BAD_CREDENTIALS);
    await this.passwordThrottle.loginSucceeded(identifier, address);

    const session = this.em.create(AuthSession, { id: randomUUID(), user, expiresAt: this.refreshExpiry() });
    const issued = this.issue(this.em, session);
    await this.em.flush();
    return issued;
  }

  /**
   * Rotates a refresh token: the presented one dies and a new pair is issued. A token that was
   * already used means it leaked, so its whole session is revoked.
   */
  async refresh(refreshToken: string): Promise<IssuedTokens> {
    const outcome = await this.em.transactional(async (tx): Promise<IssuedTokens | { reusedIn: string } | null> => {
      // The row lock makes two concurrent uses of one token see each other: one wins, one is reuse.
      const stored = await tx.findOne(RefreshToken, { tokenHash: hashOpaqueToken(refreshToken) }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!stored) return null;
      await tx.populate(stored, ['session.user']);
      const { session } = stored;
      const now = new Date();
      if (stored.usedAt) {
        session.revokedAt ??= now;
        return { reusedIn: session.id };
      }
      if (session.revokedAt || stored.expiresAt <= now || session.expiresAt <= now || !session.user.isActive) return null;
      stored.usedAt = now;
      session.expiresAt = this.refreshExpiry();
      return this.issue(tx, session);
    });
    if (outcome && 'reusedIn' in outcome) this.sessions.emit('ended', [outcome.reusedIn]);
    if (!outcome || 'reusedIn' in outcome) throw new Unauthorized(BAD_REFRESH_TOKEN);
    return outcome;
  }

  /** Ends the caller's session, and the one the given refresh token belongs to if it is theirs. */
  async logout(caller: Caller, refreshToken?: string): Promise<void> {
    const sessionIds = [caller.sessionId];
    if (refreshToken) {
      const stored = await this.em.findOne(RefreshToken, { tokenHash: hashOpaqueToken(refreshToken), session: { user: caller.id } });
      if (stored) sessionIds.push(stored.session.id);
    }
    await this.em.nativeUpdate(AuthSession, { id: { $in: sessionIds }, revokedAt: null }, { revokedAt: new Date() });
    this.sessions.emit('ended', sessionIds);
  }

  /** Those of the given sessions that are still live: not ended, and their user still active. */
  async liveSessions(sessionIds: string[]): Promise<Set<string>> {
    return new Set((await this.findLiveSessions(sessionIds)).keys());
  }

  /**
   * The auth guard: a valid access token whose session is live and whose user is active. Every
   * request and every socket connect runs it, so it is plain SQL rather than an ORM load of the
   * session and its user, shared by the checks that arrive together.
   */
  async authenticate(accessToken: string): Promise<Caller> {
    const claims = this.accessTokens.verify(accessToken);
    const session = await this.liveSessionLookup.load(claims.sessionId);
    if (session?.userId !== claims.userId) throw new Unauthorized('Session has ended; log in again');
    return { id: claims.userId, username: session.username, sessionId: claims.sessionId, expiresAt: claims.expiresAt };
  }

  async currentUser(caller: Caller): Promise<User> {
    return this.em.findOneOrFail(User, caller.id);
  }

  /** Adds a new refresh token to the session; the caller flushes. */
  private issue(em: EntityManager, session: AuthSession): IssuedTokens {
    const { token, hash } = newOpaqueToken();
    em.create(RefreshToken, { session, tokenHash: hash, expiresAt: session.expiresAt });
    return {
      accessToken: this.accessTokens.issue(session.user.id, session.id),
      refreshToken: token,
      expiresIn: this.accessTokens.ttlSeconds,
      user: session.user,
    };
  }

  /** Those of the sessions that are live, by id; on the shared connection, outside any request's transaction. */
  private async findLiveSessions(sessionIds: string[]): Promise<Map<string, LiveSession>> {
    const rows = await this.orm.em.getConnection().execute<{ id: string; user_id: number; username: string }[]>(
      `select s.id, s.user_id, u.username from auth_session s join "user" u on u.id = s.user_id
       where s.id in (?) and s.revoked_at is null and u.is_active`,
      [sessionIds],
    );
    return new Map(rows.map((row) => [row.id, { userId: row.user_id, username: row.username }]));
  }

  private refreshExpiry(): Date {
    return new Date(Date.now() + this.settings.refreshTtlSeconds * 1000);
  }

  private async assertUnclaimed(email: string, username: string): Promise<void> {
    const taken = await this.em.find(User, { $or: [{ email }, { [sql.lower('username')]: username.toLowerCase() }] });
    if (taken.length === 0) return;
    const fields = [
      ...(taken.some((user) => user.email === email) ? [{ path: 'body.email', message: 'is already registered' }] : []),
      ...(taken.some((user) => user.username.toLowerCase() === username.toLowerCase()) ? [{ path: 'body.username', message: 'is already taken' }] : []),
    ];
    throw new Conflict('Email or username is already registered', { fields });
  }
}
