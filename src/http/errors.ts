import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { isUnreachable } from '../db/unreachable';

/**
 * Every error a client can see is one of these, rendered by `errorMiddleware` as
 * `{"error": {"code", "message", "details?"}}`.
 */
export class AppError extends Error {
  /** Sent as Retry-After: when the client may try again. */
  readonly retryAfterSeconds?: number;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequest extends AppError {
  constructor(message: string, details?: unknown) {
    super(400, 'bad_request', message, details);
  }
}

export class Unauthorized extends AppError {
  constructor(message = 'Authentication required') {
    super(401, 'unauthorized', message);
  }
}

export class Forbidden extends AppError {
  constructor(message = 'Your role does not allow this') {
    super(403, 'forbidden', message);
  }
}

export class NotFound extends AppError {
  constructor(message = 'Not found', details?: unknown) {
    super(404, 'not_found', message, details);
  }
}

export class Conflict extends AppError {
  constructor(message: string, details?: unknown) {
    super(409, 'conflict', message, details);
  }
}

export class PreconditionFailed extends AppError {
  constructor(message: string, details?: unknown) {
    super(412, 'precondition_failed', message, details);
  }
}

export class PayloadTooLarge extends AppError {
  constructor(message: string) {
    super(413, 'payload_too_large', message);
  }
}

export class TooManyRequests extends AppError {
  constructor(
    message: string,
    override readonly retryAfterSeconds: number,
  ) {
    super(429, 'too_many_requests', message, { retry_after_seconds: retryAfterSeconds });
  }
}

/** The database cannot be reached: a client may try again shortly. */
export class ServiceUnavailable extends AppError {
  override readonly retryAfterSeconds = 5;

  constructor(message = 'The database is unreachable; try again shortly') {
    super(503, 'service_unavailable', message);
  }
}

export class UnsupportedMediaType extends AppError {
  constructor(message: string) {
    super(415, 'unsupported_media_type', message);
  }
}

/** One problem with one input field; `path` is where it sits, e.g. `body.end_time`. */
export interface FieldIssue {
  path: string;
  message: string;
}

export class ValidationFailed extends AppError {
  constructor(
    readonly issues: FieldIssue[],
    message = 'The request is invalid',
  ) {
    super(422, 'validation_error', message, { fields: issues });
  }
}

/** Codes for errors raised outside our code (body parser, router), by status. */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  501: 'not_implemented',
};

interface HttpErrorLike {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
}

/** Renders every thrown error in the one shape; 5xx details are logged, never sent. */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // Nothing answered (404), or the router answered 405/501 with only a status and an Allow header.
      if (ctx.body === undefined && ctx.status === 404) throw new NotFound(`No route for ${ctx.method} ${ctx.path}`);
      if (ctx.body === undefined && ctx.status >= 400) {
        const allowed = ctx.response.get('Allow');
        throw new AppError(ctx.status, CODE_BY_STATUS[ctx.status] ?? 'bad_request', allowed ? `Use ${allowed} here` : `${ctx.method} is not supported`);
      }
    } catch (err) {
      const unreachable = isUnreachable(err);
      const error = unreachable ? new ServiceUnavailable() : err;
      const { status, body } = render(error);
      if (unreachable) logger.warn({ err, method: ctx.method, path: ctx.path }, 'database unreachable');
      else if (status >= 500) logger.error({ err, method: ctx.method, path: ctx.path }, 'request failed');
      ctx.status = status;
      ctx.body = body;
      if (status === 401) ctx.set('WWW-Authenticate', 'Bearer');
      if (error instanceof AppError && error.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.retryAfterSeconds));
    }
  };
}

function render(err: unknown): { status: number; body: { error: { code: string; message: string; details?: unknown } } } {
  if (err instanceof AppError) {
    const error = { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) };
    return { status: err.status, body: { error } };
  }
  const httpError = (err ?? {}) as HttpErrorLike;
  const status = httpError.status ?? httpError.statusCode;
  if (status && status >= 400 && status < 500 && httpError.expose !== false) {
    return {
      status,
      body: { error: { code: CODE_BY_STATUS[status] ?? 'bad_request', message: httpError.message ?? 'Bad request' } },
    };
  }
  return { status: 500, body: { error: { code: 'internal_error', message: 'Internal server error' } } };
}
