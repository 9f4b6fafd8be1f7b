import Router from '@koa/router';
import { RequestContext } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import type { Logger } from 'pino';
import { SessionFeed } from './auth/feed';
import { PasswordThrottle } from './auth/password-throttle';
import { authRoutes } from './auth/routes';
import { AuthService } from './auth/service';
import { calendarRoutes } from './calendar/routes';
import { CalendarService } from './calendar/service';
import type { AppConfig } from './config';
import { PROTOCOL_MARKDOWN } from './collab/protocol';
import { eventRoutes } from './events/routes';
import { EventFeed } from './events/feed';
import { EventsService } from './events/service';
import { DocumentStore } from './documents/store';
import { BadRequest, errorMiddleware, PayloadTooLarge } from './http/errors';
import { demoClientMiddleware } from './http/demo-client';
import { buildOpenApiDocument, docsMiddleware } from './http/openapi';
import { RateLimiter } from './http/rate-limit';
import { BODY_MEDIA_TYPES, mountRoutes } from './http/route';
import { permissionRoutes } from './permissions/routes';
import { PermissionsService } from './permissions/service';
import { versionRoutes } from './versions/routes';
import { VersionsService } from './versions/service';

const API_VERSION = '1.0.0';
const CLIENT_WENT_AWAY = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export interface AppDependencies {
  config: AppConfig;
  orm: MikroORM;
  logger: Logger;
}

export interface Services {
  feed: EventFeed;
  sessions: SessionFeed;
  documents: DocumentStore;
  auth: AuthService;
  events: EventsService;
  calendar: CalendarService;
  permissions: PermissionsService;
  versions: VersionsService;
}

export function createServices(orm: MikroORM, config: AppConfig): Services {
  const feed = new EventFeed();
  const sessions = new SessionFeed();
  const documents = new DocumentStore();
  const events = new EventsService(orm, documents, feed, config.expansionRate);
  return {
    feed,
    sessions,
    documents,
    auth: new AuthService(orm, config.jwt, sessions, new PasswordThrottle(orm, config.passwordThrottle)),
    events,
    calendar: new CalendarService(orm, events),
    permissions: new PermissionsService(orm, feed),
    versions: new VersionsService(orm, events),
  };
}

/** The Koa app: common middleware, then every feature's routes under /api/v1 (and /api). */
export function createApp({ config, orm, logger }: AppDependencies, services = createServices(orm, config)): Koa {
  const routes = [
    ...authRoutes(services.auth),
    ...eventRoutes(services.events),
    ...calendarRoutes(services.calendar),
    ...permissionRoutes(services.permissions),
    ...versionRoutes(services.versions),
  ];
  const api = new Router();
  mountRoutes(api, routes, (token) => services.auth.authenticate(token), new RateLimiter(config.requestRate, 'requests'));

  const root = new Router();
  root.get('/health', async (ctx) => {
    await orm.em.getConnection().execute('select 1');
    ctx.body = { status: 'ok' };
  });
  // /api is the original assignment's prefix; v1 is matched first.
  root.use('/api/v1', api.routes());
  root.use('/api', api.routes());

  // Behind a proxy, the client's address (for login throttling) is in X-Forwarded-For.
  const app = new Koa({ proxy: config.trustProxy });
  // Errors past the error middleware: failed response streams. A client that went away while a
  // file was sent (a browser leaving the page, a script closing once it has the bytes) is routine.
  app.on('error', (err: NodeJS.ErrnoException, ctx?: Koa.Context) => {
    if (ctx?.headerSent && err.code && CLIENT_WENT_AWAY.has(err.code)) logger.debug({ err, path: ctx.path }, 'client closed the connection during the response');
    else logger.warn({ err }, 'response failed');
  });
  app.use(requestLog(logger));
  app.use(errorMiddleware(logger));
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  });
  app.use(docsMiddleware(buildOpenApiDocument(routes, '/api/v1', API_VERSION, PROTOCOL_MARKDOWN)));
  app.use(demoClientMiddleware());
  app.use(
    koaBody({
      json: true,
      urlencoded: true,
      multipart: false,
      // Text only as iCalendar, for imports.
      text: true,
      textTypes: [BODY_MEDIA_TYPES.calendar],
      jsonStrict: true,
      jsonLimit: config.bodyLimit,
      formLimit: config.bodyLimit,
      textLimit: config.calendarBodyLimit,
      onError(err, ctx) {
        if ((err as { status?: number }).status === 413) {
          throw new PayloadTooLarge(`The body is larger than ${ctx.is(BODY_MEDIA_TYPES.calendar) ? config.calendarBodyLimit : config.bodyLimit}`);
        }
        throw new BadRequest('The body could not be parsed: send a JSON object (or a form where one is accepted)');
      },
    }),
  );
  // Each request gets its own EntityManager, so identity maps never leak between requests.
  app.use((_ctx, next) => RequestContext.create(orm.em, next));
  app.use(root.routes());
  app.use(root.allowedMethods());
  return app;
}

function requestLog(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      logger.info(
        { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) },
        'request',
      );
    }
  };
}
