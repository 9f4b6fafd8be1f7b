import { createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { AppConfig } from '../config';
import { Unauthorized } from '../http/errors';

const ALGORITHM = 'HS256';
const ACCESS_AUDIENCE = 'neofi-api';

export interface AccessClaims {
  userId: number;
  sessionId: string;
  expiresAt: Date;
}

/**
 * Short-lived JWTs. `typ` and the audience keep them apart from anything else signed with the
 * secret; refresh tokens are opaque random strings, so neither can pass for the other.
 */
export class AccessTokens {
  /**
   * The secret as a key object, made once: given a string, jsonwebtoken first tries to read it as
   * a public key at every verify, and that failed attempt cost about half a millisecond of CPU per
   * request.
   */
  private readonly key: KeyObject;

  constructor(private readonly settings: AppConfig['jwt']) {
    this.key = createSecretKey(Buffer.from(settings.secret, 'utf8'));
  }

  get ttlSeconds(): number {
    return this.settings.accessTtlSeconds;
  }

  issue(userId: number, sessionId: string): string {
    return jwt.sign({ typ: 'access', sid: sessionId }, this.key, {
      algorithm: ALGORITHM,
      subject: String(userId),
      issuer: this.settings.issuer,
      audience: ACCESS_AUDIENCE,
      expiresIn: this.settings.accessTtlSeconds,
    });
  }

  verify(token: string): AccessClaims {
    let payload: jwt.JwtPayload | string;
    try {
      payload = jwt.verify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: this.settings.issuer,
        audience: ACCESS_AUDIENCE,
      });
    } catch (err) {
      throw new Unauthorized(err instanceof jwt.TokenExpiredError ? 'Access token expired' : 'Invalid access token');
    }
    const userId = typeof payload === 'object' ? Number(payload.sub) : NaN;
    // Sessions are looked up many at a time: one id the database cannot read must not fail the others.
    if (typeof payload !== 'object' || payload.typ !== 'access' || !Number.isInteger(userId) || typeof payload.sid !== 'string' || !UUID.test(payload.sid)) {
      throw new Unauthorized('Invalid access token');
    }
    return { userId, sessionId: payload.sid, expiresAt: new Date(payload.exp! * 1000) };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A new opaque token (a refresh token, a calendar feed's secret) and the hash that is all the
 * database keeps of it.
 */
export function newOpaqueToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashOpaqueToken(token) };
}

export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
