import { connect } from 'node:net';
import { ConfigError, loadConfig } from '../src/config';
import { createUser } from './support/fixtures';
import { proxyDatabase } from './support/tcp-proxy';
import { createTestDatabase, startTestApp, type TestApp } from './support/test-app';

describe('configuration', () => {
  it('refuses to start in production without a strong JWT secret', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short' })).toThrow(/at least 32 characters/);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).warnings).toEqual([]);
  });

  it('generates a random secret in development, with a warning', () => {
    const first = loadConfig({});
    const second = loadConfig({});
    expect(first.warnings).toEqual([expect.stringContaining('JWT_SECRET is not set')]);
    expect(first.config.jwt.secret).toHaveLength(64);
    expect(first.config.jwt.secret).not.toBe(second.config.jwt.secret);
  });

  it('reads defaults and durations, and names bad variables', () => {
    const { config } = loadConfig({ ACCESS_TOKEN_TTL: '5m', REFRESH_TOKEN_TTL: '7d' });
    expect(config).toMatchObject({ port: 8000, jwt: { accessTtlSeconds: 300, refreshTtlSeconds: 604800 } });
    expect(config.databaseUrl).toBeUndefined();
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ ACCESS_TOKEN_TTL: '15 minutes' })).toThrow(/ACCESS_TOKEN_TTL/);
  });
});

describe('the running app', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('serves an OpenAPI 3.1 document describing every route', async () => {
    const response = await fetch(`${app.baseUrl}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as any;
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.description).toContain('Socket.IO namespace `/collab`');
    const operations = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'POST /api/v1/auth/register',
        'POST /api/v1/auth/login',
        'POST /api/v1/auth/refresh',
        'POST /api/v1/auth/logout',
        'GET /api/v1/auth/me',
        'POST /api/v1/events',
        'POST /api/v1/events/batch',
        'POST /api/v1/events/import',
        'GET /api/v1/events',
        'GET /api/v1/events/conflicts',
        'GET /api/v1/events/occurrences',
        'GET /api/v1/events.ics',
        'POST /api/v1/calendar-feed',
        'DELETE /api/v1/calendar-feed',
        'GET /api/v1/calendar-feed/{secret}.ics',
        'GET /api/v1/events/{id}',
        'PUT /api/v1/events/{id}',
        'DELETE /api/v1/events/{id}',
        'POST /api/v1/events/{id}/share',
        'GET /api/v1/events/{id}/permissions',
        'PUT /api/v1/events/{id}/permissions/{user_id}',
        'DELETE /api/v1/events/{id}/permissions/{user_id}',
        'GET /api/v1/events/{id}/history',
        'GET /api/v1/events/{id}/history/{version_number}',
        'POST /api/v1/events/{id}/rollback/{version_number}',
        'GET /api/v1/events/{id}/changelog',
        'GET /api/v1/events/{id}/diff/{v1}/{v2}',
      ].sort(),
    );
    const createEvent = document.paths['/api/v1/events'].post;
    expect(createEvent.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/CreateEventRequest' });
    expect(document.components.schemas.CreateEventRequest.required).toEqual(['title', 'start_time', 'end_time']);
    expect(createEvent.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(document.paths['/api/v1/events/import'].post.requestBody.content)).toEqual(['text/calendar']);
    expect(document.paths['/api/v1/events'].get.responses['429']).toBeDefined();
    expect(Object.keys(document.paths['/api/v1/auth/login'].post.requestBody.content)).toEqual([
      'application/json',
      'application/x-www-form-urlencoded',
    ]);
  });

  it('serves Swagger UI at /docs from local assets', async () => {
    const redirect = await fetch(`${app.baseUrl}/docs`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const page = await fetch(`${app.baseUrl}/docs/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui-bundle.js');
    expect(html).not.toMatch(/https?:\/\/(cdn|unpkg)/);
    const initializer = await (await fetch(`${app.baseUrl}/docs/swagger-initializer.js`)).text();
    expect(initializer).toContain("url: '/openapi.json'");
    const bundle = await fetch(`${app.baseUrl}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
  });

  it('counts a client that goes away before a file is sent as no failure of the server', async () => {
    // A browser leaving the page: the connection closes as soon as the response starts.
    const head = await getAndClose(app.baseUrl, '/docs/swagger-ui-bundle.js', (received) => received.includes('\r\n\r\n'));
    expect(head).toMatch(/^HTTP\/1.1 200 OK\r\n/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(app.warnings).toEqual([]);
  });

  it('answers /health once the database answers', async () => {
    const response = await fetch(`${app.baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers unknown routes and methods in the common error shape', async () => {
    const missing = await app.api.get('/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: 'not_found', message: 'No route for GET /api/v1/nothing-here' } });
    const wrongMethod = await app.api.request('PATCH', '/events/1');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error.code).toBe('method_not_allowed');
  });
});

describe("a user's request budget", () => {
  it('refuses requests past it with 429 and Retry-After, before reading them, for that user alone, until it refills', async () => {
    const limited = await startTestApp({ REQUEST_BURST: '3', REQUEST_RATE: '1' });
    try {
      const [eager, other] = await Promise.all([createUser(limited.api, 'eager'), createUser(limited.api, 'patient')]);
      const statuses = [];
      for (let n = 0; n < 3; n++) statuses.push((await limited.api.get('/events', { token: eager.token })).status);
      expect(statuses).toEqual([200, 200, 200]);
      // Refused before its body is read: an invalid one gets 429, not 422.
      const refused = await limited.api.post('/events', { title: '' }, { token: eager.token });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body).toEqual({ error: { code: 'too_many_requests', message: 'Too many requests: send again in 1 s', details: { retry_after_seconds: 1 } } });
      // Requests without a valid token are not anyone's.
      expect((await limited.api.get('/events', { token: 'forged' })).status).toBe(401);
      expect((await limited.api.get('/events', { token: other.token })).status).toBe(200);

      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await limited.api.get('/events', { token: eager.token })).status).toBe(200);
      expect((await limited.api.get('/events', { token: eager.token })).status).toBe(429);
    } finally {
      await limited.close();
    }
  });
});

describe('an unreachable database', () => {
  it('answers 503 with Retry-After within seconds, and serves again once the database is back', async () => {
    const database = await createTestDatabase();
    const proxy = await proxyDatabase(database.url);
    const app = await startTestApp({ DATABASE_URL: proxy.url }, { database, expectWarnings: true });
    try {
      const user = await createUser(app.api, 'outage');
      await proxy.cut();
      const started = Date.now();
      const refused = await app.api.get('/events', { token: user.token });
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('service_unavailable');
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(Date.now() - started).toBeLessThan(15_000);
      expect((await fetch(`${app.baseUrl}/health`)).status).toBe(503);

      await proxy.restore();
      expect((await app.api.get('/events', { token: user.token })).status).toBe(200);
      expect(app.warnings.map((record) => record.msg)).toContain('database unreachable');
    } finally {
      await proxy.restore();
      await app.close();
      await proxy.close();
      await database.drop();
    }
  }, 60_000);
});

/** A GET on a raw connection, closed as soon as what has arrived is `enough`. */
function getAndClose(baseUrl: string, path: string, enough: (received: string) => boolean): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`));
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (!enough(received)) return;
      socket.destroy();
      resolve(received);
    });
    socket.on('error', reject);
  });
}
