import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import { z } from 'zod';
import { BadRequest, Unauthorized, UnsupportedMediaType } from './errors';
import type { RateLimiter } from './rate-limit';
import { parse } from './validation';

/** Who is calling: set by the auth guard from a valid access token. */
export interface Caller {
  id: number;
  username: string;
  sessionId: string;
  /** When the access token stops being valid. */
  expiresAt: Date;
}

export type AppContext = RouterContext;

export type Authenticate = (accessToken: string) => Promise<Caller>;

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Of a body that is not JSON. */
  mediaType?: string;
  /** Response headers worth documenting, e.g. ETag. */
  headers?: Record<string, string>;
}

/** Media types a body may come in; `form` is the OAuth2 password form. */
export const BODY_MEDIA_TYPES = { json: 'application/json', form: 'application/x-www-form-urlencoded', calendar: 'text/calendar' } as const;
type BodyFormat = keyof typeof BODY_MEDIA_TYPES;

type AnyObject = z.ZodType<Record<string, unknown>>;
type Empty = z.ZodObject<Record<string, never>>;

interface RouteSpecBase<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI style, relative to the API prefix: `/events/{id}`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  params?: P;
  query?: Q;
  body?: B;
  bodyFormats?: BodyFormat[];
  /** Headers the route reads, documented as parameters (e.g. If-Match). */
  requestHeaders?: Record<string, string>;
  responses: Record<number, ResponseSpec>;
}

interface Input<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
}

type ProtectedSpec<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> = RouteSpecBase<P, Q, B> & {
  public?: false;
  handler(ctx: AppContext, input: Input<P, Q, B> & { caller: Caller }): Promise<void>;
};

type PublicSpec<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> = RouteSpecBase<P, Q, B> & {
  public: true;
  handler(ctx: AppContext, input: Input<P, Q, B>): Promise<void>;
};

/** A route with its types erased, ready to mount and to document. */
export type Route = RouteSpecBase<AnyObject, AnyObject, z.ZodType> & {
  public?: boolean;
  handler(ctx: AppContext, input: Input<AnyObject, AnyObject, z.ZodType> & { caller?: Caller }): Promise<void>;
};

/**
 * One definition per endpoint: its schemas validate the request, type the handler and feed the
 * OpenAPI document, so the three cannot drift apart.
 */
export function defineRoute<P extends AnyObject = Empty, Q extends AnyObject = Empty, B extends z.ZodType = z.ZodUndefined>(
  spec: ProtectedSpec<P, Q, B> | PublicSpec<P, Q, B>,
): Route {
  return spec as unknown as Route;
}

/**
 * Adds each route to the router: auth guard and the caller's request budget, then input
 * validation, then the handler. Public routes have limits of their own where they need them
 * (failed logins, registrations, fetches of a calendar feed).
 */
export function mountRoutes(router: Router, routes: Route[], authenticate: Authenticate, requests: RateLimiter<number>): void {
  for (const route of routes) {
    const koaPath = route.path.replace(/\{(\w+)\}/g, ':$1');
    const accepted = (route.bodyFormats ?? ['json']).map((format) => BODY_MEDIA_TYPES[format]);
    router[route.method](koaPath, async (ctx: AppContext) => {
      const caller = route.public ? undefined : await authenticate(bearerToken(ctx));
      if (caller) requests.spend(caller.id);
      // Content-Length: 0 is no body at all, so it needs no content type.
      if (route.body && ctx.request.length !== 0 && ctx.request.is(accepted) === false) {
        throw new UnsupportedMediaType(`Send the body as ${accepted.join(' or ')}`);
      }
      // JSON arrays pass the parser's strict mode; like strings or null, they are not a body here.
      if (route.body && Array.isArray(ctx.request.body)) throw new BadRequest('The body must be a JSON object');
      const input = {
        params: parse(route.params, ctx.params, 'path'),
        query: parse(route.query, ctx.query, 'query'),
        // A POST with no body at all reads as an empty object, so optional bodies may be left out.
        body: route.body ? parse(route.body, ctx.request.body ?? {}, 'body') : undefined,
        caller,
      };
      await route.handler(ctx, input);
    });
  }
}

function bearerToken(ctx: AppContext): string {
  const header = ctx.get('Authorization');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new Unauthorized(header ? 'The Authorization header must be "Bearer <access token>"' : 'Authentication required');
  return match[1];
}
