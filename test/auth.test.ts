import jwt from 'jsonwebtoken';
import { User } from '../src/db/entities';
import { createUser } from './support/fixtures';
import { startTestApp, type TestApp } from './support/test-app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe('register', () => {
  it('creates a user and never returns the password hash', async () => {
    const response = await app.api.post('/auth/register', { email: 'Ann@Example.com', username: 'Ann.Lee', password: 'long enough' });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      id: expect.any(Number),
      email: 'ann@example.com',
      username: 'Ann.Lee',
      is_active: true,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(JSON.stringify(response.body)).not.toMatch(/argon2|password/);
  });

  it('refuses a taken email or username, whatever their case', async () => {
    await app.api.post('/auth/register', { email: 'bob@example.com', username: 'bob', password: 'long enough' });
    const sameEmail = await app.api.post('/auth/register', { email: 'BOB@example.com', username: 'bobby', password: 'long enough' });
    const sameName = await app.api.post('/auth/register', { email: 'other@example.com', username: 'BOB', password: 'long enough' });
    expect(sameEmail.status).toBe(409);
    expect(sameEmail.body.error.details.fields).toEqual([{ path: 'body.email', message: 'is already registered' }]);
    expect(sameName.status).toBe(409);
    expect(sameName.body.error.code).toBe('conflict');
  });

  it('keeps one account when the same name registers twice at once', async () => {
    const body = { email: 'race@example.com', username: 'racer', password: 'long enough' };
    const results = await Promise.all([1, 2, 3].map(() => app.api.post('/auth/register', body)));
    expect(results.map((result) => result.status).sort()).toEqual([201, 409, 409]);
  });

  it.each([
    [{ email: 'not-an-email', username: 'valid_name', password: 'long enough' }, 'body.email'],
    [{ email: 'x@example.com', username: 'ab', password: 'long enough' }, 'body.username'],
    [{ email: 'x@example.com', username: 'has space', password: 'long enough' }, 'body.username'],
    [{ email: 'x@example.com', username: 'a'.repeat(51), password: 'long enough' }, 'body.username'],
    [{ email: 'x@example.com', username: 'valid_name', password: 'short' }, 'body.password'],
    [{ email: 'x@example.com', username: 'valid_name' }, 'body.password'],
    [{ email: 'x@example.com', username: 'valid_name', password: 'long enough', is_admin: true }, 'body.is_admin'],
  ])('rejects %j with a 422 naming %s', async (body, path) => {
    const response = await app.api.post('/auth/register', body);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('validation_error');
    expect(response.body.error.details.fields.map((field: { path: string }) => field.path)).toContain(path);
  });
});

describe('login', () => {
  it('accepts JSON with the username in any case, or the email', async () => {
    const user = await createUser(app.api, 'carol');
    for (const username of [user.username.toUpperCase(), user.email]) {
      const response = await app.api.post('/auth/login', { username, password: user.password });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.body).toMatchObject({ token_type: 'bearer', expires_in: 900, user: { id: user.id } });
    }
  });

  it('accepts the OAuth2 password form', async () => {
    const user = await createUser(app.api, 'dave');
    const response = await app.api.post('/auth/login', undefined, {
      form: { grant_type: 'password', username: user.username, password: user.password },
    });
    expect(response.status).toBe(200);
    expect(response.body.access_token).toEqual(expect.any(String));
  });

  it('answers a wrong password and an unknown user alike', async () => {
    const user = await createUser(app.api, 'erin');
    const wrongPassword = await app.api.post('/auth/login', { username: user.username, password: 'wrong password' });
    const unknownUser = await app.api.post('/auth/login', { username: 'nobody_here', password: 'wrong password' });
    expect(wrongPassword.status).toBe(401);
    expect(unknownUser.status).toBe(401);
    expect(wrongPassword.body).toEqual(unknownUser.body);
    expect(wrongPassword.headers.get('www-authenticate')).toBe('Bearer');
  });
});

describe('login throttling', () => {
  const LIMIT = 3;
  const ADDRESS_LIMIT = 5;
  let throttled: TestApp;
  beforeAll(async () => {
    throttled = await startTestApp({
      LOGIN_FAILURE_LIMIT: String(LIMIT),
      LOGIN_ADDRESS_FAILURE_LIMIT: String(ADDRESS_LIMIT),
      LOGIN_FAILURE_WINDOW: '2s',
      TRUST_PROXY: 'true',
    });
  });
  afterAll(() => throttled.close());

  const logIn = (username: string, password: string, address: string) =>
    throttled.api.post('/auth/login', { username, password }, { headers: { 'x-forwarded-for': address } });

  it('refuses logins to an account from an address after too many failures, until the window ends', async () => {
    const user = await createUser(throttled.api, 'fay');
    for (let attempt = 0; attempt < LIMIT; attempt += 1) {
      // Any case of the name is the same account.
      expect((await logIn(attempt % 2 ? user.username.toUpperCase() : user.username, 'wrong password', '203.0.113.1')).status).toBe(401);
    }
    const refused = await logIn(user.username, user.password, '203.0.113.1');
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'too_many_requests', details: { retry_after_seconds: expect.any(Number) } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(2);

    // The owner, elsewhere, is not locked out; nor is another account from that address.
    expect((await logIn(user.username, user.password, '198.51.100.7')).status).toBe(200);
    const other = await createUser(throttled.api, 'gus');
    expect((await logIn(other.username, other.password, '203.0.113.1')).status).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await logIn(user.username, user.password, '203.0.113.1')).status).toBe(200);
  });

  it('counts attempts sent all at once: no more than the limit get a password check', async () => {
    const user = await createUser(throttled.api, 'kim');
    const answers = await Promise.all(Array.from({ length: 8 }, () => logIn(user.username, 'wrong password', '203.0.113.5')));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429]);
  });

  it('starts counting again after a successful login', async () => {
    const user = await createUser(throttled.api, 'hal');
    for (let attempt = 1; attempt < LIMIT; attempt += 1) expect((await logIn(user.username, 'wrong password', '203.0.113.2')).status).toBe(401);
    expect((await logIn(user.username, user.password, '203.0.113.2')).status).toBe(200);
    for (let attempt = 1; attempt < LIMIT; attempt += 1) expect((await logIn(user.username, 'wrong password', '203.0.113.2')).status).toBe(401);
    expect((await logIn(user.username, user.password, '203.0.113.2')).status).toBe(200);
  });

  it('refuses logins from an address after too many failures over all accounts, and counts no successes', async () => {
    const user = await createUser(throttled.api, 'lee');
    for (let attempt = 0; attempt <= ADDRESS_LIMIT; attempt += 1) expect((await logIn(user.username, user.password, '203.0.113.6')).status).toBe(200);
    // One guess at each of many names, real or not: none reaches its account's own limit.
    for (let attempt = 0; attempt < ADDRESS_LIMIT; attempt += 1) expect((await logIn(`sprayed_${attempt}`, 'Winter2026!', '203.0.113.6')).status).toBe(401);
    const refused = await logIn(user.username, user.password, '203.0.113.6');
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toMatch(/^Too many failed logins from this address: try again in [12] s$/);
    expect((await logIn(user.username, user.password, '198.51.100.8')).status).toBe(200);
  });

  it('keeps no name or address in the database, and clears expired counts', async () => {
    await logIn('ivy_unknown', 'wrong password', '203.0.113.3');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await logIn('ivy_unknown', 'wrong password', '203.0.113.4');
    const rows = await throttled.database.orm.em.getConnection().execute<{ key: string; expire: string }[]>('select key, expire from password_attempt');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.key).toMatch(/^(login|login-address|register):[0-9a-f]{64}$/);
      expect(Number(row.expire)).toBeGreaterThan(Date.now());
    }
  });

  it('takes the address from the connection, not X-Forwarded-For, unless told to trust a proxy', async () => {
    const direct = await startTestApp({ LOGIN_FAILURE_LIMIT: String(LIMIT) });
    try {
      const user = await createUser(direct.api, 'jan');
      for (let attempt = 0; attempt < LIMIT; attempt += 1) {
        const response = await direct.api.post('/auth/login', { username: user.username, password: 'wrong' }, { headers: { 'x-forwarded-for': `192.0.2.${attempt}` } });
        expect(response.status).toBe(401);
      }
      const spoofed = await direct.api.post('/auth/login', { username: user.username, password: user.password }, { headers: { 'x-forwarded-for': '192.0.2.99' } });
      expect(spoofed.status).toBe(429);
    } finally {
      await direct.close();
    }
  });
});

describe('registration throttling', () => {
  it('refuses registrations from an address past the limit until the window ends, and takes them from others', async () => {
    const limited = await startTestApp({ REGISTRATION_LIMIT: '2', REGISTRATION_WINDOW: '2s', TRUST_PROXY: 'true' });
    try {
      const register = (username: string, address: string) =>
        limited.api.post('/auth/register', { email: `${username}@example.com`, username, password: 'correct horse battery' }, { headers: { 'x-forwarded-for': address } });
      expect((await register('reg_a', '203.0.113.20')).status).toBe(201);
      expect((await register('reg_b', '203.0.113.20')).status).toBe(201);
      const refused = await register('reg_c', '203.0.113.20');
      expect(refused.status).toBe(429);
      expect(refused.body.error).toMatchObject({ code: 'too_many_requests', message: expect.stringMatching(/^Too many registrations from this address/) });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await register('reg_c', '198.51.100.20')).status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      expect((await register('reg_d', '203.0.113.20')).status).toBe(201);
    } finally {
      await limited.close();
    }
  });
});

describe('access tokens', () => {
  it('let the caller read itself', async () => {
    const user = await createUser(app.api, 'fay');
    const me = await app.api.get('/auth/me', { token: user.token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, username: user.username, email: user.email });
  });

  it('refuses missing, malformed, forged, expired and unsigned tokens', async () => {
    const user = await createUser(app.api, 'gus');
    const claims = jwt.decode(user.token) as jwt.JwtPayload;
    const { secret, issuer } = app.config.jwt;
    const resign = (payload: object, key = secret) => jwt.sign(payload, key, { algorithm: 'HS256' });
    const tokens = {
      missing: undefined,
      garbage: 'not-a-jwt',
      forged: resign(claims, 'some other secret that is long enough to look real'),
      expired: resign({ ...claims, iat: claims.iat! - 3600, exp: Math.floor(Date.now() / 1000) - 60 }),
      wrongType: resign({ ...claims, typ: 'refresh' }),
      // Correctly signed, but not a session id the server could have issued.
      notASessionId: resign({ ...claims, sid: 'not-a-session-id' }),
      wrongIssuer: resign({ ...claims, iss: `${issuer}-other` }),
      unsigned: `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`,
    };
    for (const [name, token] of Object.entries(tokens)) {
      const response = await app.api.get('/auth/me', { token });
      expect({ name, status: response.status, code: response.body.error?.code }).toEqual({ name, status: 401, code: 'unauthorized' });
    }
    const expired = await app.api.get('/auth/me', { token: tokens.expired });
    expect(expired.body.error.message).toBe('Access token expired');
  });

  it('are not accepted as refresh tokens, and refresh tokens are not bearer tokens', async () => {
    const user = await createUser(app.api, 'hal');
    expect((await app.api.post('/auth/refresh', { refresh_token: user.token })).status).toBe(401);
    expect((await app.api.get('/auth/me', { token: user.refreshToken })).status).toBe(401);
  });
});

describe('refresh', () => {
  it('rotates: the new pair works and the used token is dead', async () => {
    const user = await createUser(app.api, 'ivy');
    const rotated = await app.api.post('/auth/refresh', { refresh_token: user.refreshToken });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(user.refreshToken);
    expect((await app.api.get('/auth/me', { token: rotated.body.access_token })).status).toBe(200);

    const again = await app.api.post('/auth/refresh', { refresh_token: rotated.body.refresh_token });
    expect(again.status).toBe(200);
  });

  it('treats reuse of a used token as theft and revokes the whole session', async () => {
    const user = await createUser(app.api, 'jay');
    const rotated = await app.api.post('/auth/refresh', { refresh_token: user.refreshToken });
    expect(rotated.status).toBe(200);

    const replay = await app.api.post('/auth/refresh', { refresh_token: user.refreshToken });
    expect(replay.status).toBe(401);
    // The thief's replay also kills what the legitimate client holds.
    expect((await app.api.post('/auth/refresh', { refresh_token: rotated.body.refresh_token })).status).toBe(401);
    expect((await app.api.get('/auth/me', { token: rotated.body.access_token })).status).toBe(401);
  });

  it('lets exactly one of two concurrent uses of a token win, and revokes the session', async () => {
    const user = await createUser(app.api, 'kim');
    const [first, second] = await Promise.all([
      app.api.post('/auth/refresh', { refresh_token: user.refreshToken }),
      app.api.post('/auth/refresh', { refresh_token: user.refreshToken }),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 401]);
    const winner = first.status === 200 ? first : second;
    expect((await app.api.get('/auth/me', { token: winner.body.access_token })).status).toBe(401);
  });

  it('keeps other sessions of the same user alive', async () => {
    const user = await createUser(app.api, 'lou');
    const otherDevice = await app.api.post('/auth/login', { username: user.username, password: user.password });
    await app.api.post('/auth/refresh', { refresh_token: user.refreshToken });
    await app.api.post('/auth/refresh', { refresh_token: user.refreshToken }); // reuse: revokes the first session only
    expect((await app.api.get('/auth/me', { token: otherDevice.body.access_token })).status).toBe(200);
  });

  it('rejects unknown tokens and bad bodies', async () => {
    expect((await app.api.post('/auth/refresh', { refresh_token: 'made-up' })).status).toBe(401);
    expect((await app.api.post('/auth/refresh', {})).status).toBe(422);
    expect((await app.api.post('/auth/refresh', { refresh_token: 42 })).status).toBe(422);
  });
});

describe('the auth guard', () => {
  it("refuses the access token of a deactivated user, and of another user's session", async () => {
    const user = await createUser(app.api, 'quin');
    const other = await createUser(app.api, 'ray');
    expect((await app.api.get('/auth/me', { token: user.token })).status).toBe(200);

    // A well-signed token naming someone else's live session is refused.
    const { sid } = jwt.decode(other.token) as jwt.JwtPayload;
    const mixed = jwt.sign({ ...(jwt.decode(user.token) as jwt.JwtPayload), sid }, app.config.jwt.secret, { algorithm: 'HS256' });
    expect((await app.api.get('/auth/me', { token: mixed })).status).toBe(401);

    await app.database.orm.em.fork().nativeUpdate(User, { id: user.id }, { isActive: false });
    const refused = await app.api.get('/auth/me', { token: user.token });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toBe('Session has ended; log in again');
  });
});

describe('logout', () => {
  it('revokes the session: its refresh token and its access tokens stop working', async () => {
    const user = await createUser(app.api, 'max');
    const response = await app.api.post('/auth/logout', { refresh_token: user.refreshToken }, { token: user.token });
    expect(response.status).toBe(204);
    expect((await app.api.post('/auth/refresh', { refresh_token: user.refreshToken })).status).toBe(401);
    expect((await app.api.get('/auth/me', { token: user.token })).status).toBe(401);
  });

  it('works without a body, and needs a bearer token', async () => {
    const user = await createUser(app.api, 'ned');
    expect((await app.api.post('/auth/logout', undefined, { token: user.token })).status).toBe(204);
    expect((await app.api.post('/auth/refresh', { refresh_token: user.refreshToken })).status).toBe(401);
    expect((await app.api.post('/auth/logout')).status).toBe(401);
  });

  it("cannot revoke someone else's session", async () => {
    const victim = await createUser(app.api, 'oli');
    const attacker = await createUser(app.api, 'pat');
    await app.api.post('/auth/logout', { refresh_token: victim.refreshToken }, { token: attacker.token });
    expect((await app.api.post('/auth/refresh', { refresh_token: victim.refreshToken })).status).toBe(200);
  });
});
