import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { PasswordThrottleOptions } from './auth/password-throttle';
import type { Rate } from './http/rate-limit';

/** The only place that reads the environment: everything else receives an AppConfig. */

const MIN_SECRET_LENGTH = 32;

const duration = (fallbackSeconds: number) =>
  z
    .string()
    .regex(/^\d+[smhd]?$/, 'a number of seconds, or a number followed by s, m, h or d')
    .transform(parseDurationSeconds)
    .optional()
    .transform((value) => value ?? fallbackSeconds);

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
  EMBEDDED_PG_DIR: z.string().min(1).default('./.data/postgres'),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(5433),
  JWT_SECRET: z.string().optional(),
  JWT_ISSUER: z.string().min(1).default('neofi-events'),
  ACCESS_TOKEN_TTL: duration(15 * 60),
  REFRESH_TOKEN_TTL: duration(30 * 24 * 3600),
  LOGIN_FAILURE_LIMIT: z.coerce.number().int().min(1).default(10),
  LOGIN_ADDRESS_FAILURE_LIMIT: z.coerce.number().int().min(1).default(100),
  LOGIN_FAILURE_WINDOW: duration(15 * 60),
  REGISTRATION_LIMIT: z.coerce.number().int().min(1).default(20),
  REGISTRATION_WINDOW: duration(3600),
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  REQUEST_RATE: z.coerce.number().positive().default(20),
  REQUEST_BURST: z.coerce.number().int().min(1).default(600),
  EXPANSION_RATE_MS: z.coerce.number().positive().default(200),
  EXPANSION_BURST_MS: z.coerce.number().int().min(1).default(2_000),
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as 100kb').default('100kb'),
  CALENDAR_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as 1mb').default('1mb'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// URL').optional(),
  COLLAB_ADAPTER: z.enum(['postgres', 'redis', 'none']).optional(),
  COLLAB_QUIET_MS: z.coerce.number().int().min(10).default(2_000),
  COLLAB_MAX_DELAY_MS: z.coerce.number().int().min(10).default(10_000),
  COLLAB_IDLE_UNLOAD_MS: z.coerce.number().int().min(0).default(30_000),
  COLLAB_SESSION_SWEEP_MS: z.coerce.number().int().min(10).default(30_000),
  COLLAB_PRESENCE_CHECK_MS: z.coerce.number().int().min(10).default(30_000),
  COLLAB_MESSAGE_RATE: z.coerce.number().positive().default(200),
  COLLAB_MESSAGE_BURST: z.coerce.number().int().min(1).default(2_000),
});

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** Unset: start the embedded PostgreSQL below. */
  databaseUrl?: string;
  embeddedPostgres: { dataDir: string; port: number };
  jwt: { secret: string; issuer: string; accessTtlSeconds: number; refreshTtlSeconds: number };
  /** Failed logins and registrations allowed per client address in a window. */
  passwordThrottle: PasswordThrottleOptions;
  /** Take the client's address from X-Forwarded-For (set only behind a proxy that sets it). */
  trustProxy: boolean;
  /** REST requests one user may send at once, and each second after that. */
  requestRate: Rate;
  /** Milliseconds of recurrence-rule expansion one user may spend at once, and each second after that. */
  expansionRate: Rate;
  bodyLimit: string;
  /** The largest iCalendar file an import takes. */
  calendarBodyLimit: string;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  collab: {
    /** How processes reach each other: PostgreSQL (default), Redis, or not at all (one process). */
    adapter: 'postgres' | 'redis' | 'none';
    redisUrl?: string;
    quietMs: number;
    maxDelayMs: number;
    idleUnloadMs: number;
    sessionSweepMs: number;
    presenceCheckMs: number;
    messageRate: Rate;
  };
}

export class ConfigError extends Error {}

export interface LoadedConfig {
  config: AppConfig;
  /** Things a person should know at start-up, such as a generated secret. */
  warnings: string[];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid environment:\n  ${problems.join('\n  ')}`);
  }
  const vars = parsed.data;
  const warnings: string[] = [];

  let secret = vars.JWT_SECRET;
  if (!secret || secret.length < MIN_SECRET_LENGTH) {
    if (vars.NODE_ENV === 'production') {
      throw new ConfigError(
        `JWT_SECRET must be set to at least ${MIN_SECRET_LENGTH} characters in production ` +
          `(generate one with: openssl rand -base64 48)`,
      );
    }
    warnings.push(
      `JWT_SECRET is ${secret ? 'too short' : 'not set'}: using a random secret for this run; ` +
        `tokens will not survive a restart`,
    );
    secret = randomBytes(48).toString('base64url');
  }

  const adapter = vars.COLLAB_ADAPTER ?? (vars.REDIS_URL ? 'redis' : 'postgres');
  if (adapter === 'redis' && !vars.REDIS_URL) throw new ConfigError('COLLAB_ADAPTER=redis needs REDIS_URL');

  return {
    config: {
      env: vars.NODE_ENV,
      host: vars.HOST,
      port: vars.PORT,
      databaseUrl: vars.DATABASE_URL,
      embeddedPostgres: { dataDir: vars.EMBEDDED_PG_DIR, port: vars.EMBEDDED_PG_PORT },
      jwt: {
        secret,
        issuer: vars.JWT_ISSUER,
        accessTtlSeconds: vars.ACCESS_TOKEN_TTL,
        refreshTtlSeconds: vars.REFRESH_TOKEN_TTL,
      },
      passwordThrottle: {
        logins: { failuresPerAccount: vars.LOGIN_FAILURE_LIMIT, failuresPerAddress: vars.LOGIN_ADDRESS_FAILURE_LIMIT, windowSeconds: vars.LOGIN_FAILURE_WINDOW },
        registrations: { perAddress: vars.REGISTRATION_LIMIT, windowSeconds: vars.REGISTRATION_WINDOW },
      },
      trustProxy: vars.TRUST_PROXY === 'true',
      requestRate: { burst: vars.REQUEST_BURST, perSecond: vars.REQUEST_RATE },
      expansionRate: { burst: vars.EXPANSION_BURST_MS, perSecond: vars.EXPANSION_RATE_MS },
      bodyLimit: vars.BODY_LIMIT,
      calendarBodyLimit: vars.CALENDAR_BODY_LIMIT,
      logLevel: vars.LOG_LEVEL,
      collab: {
        adapter,
        redisUrl: vars.REDIS_URL,
        quietMs: vars.COLLAB_QUIET_MS,
        maxDelayMs: vars.COLLAB_MAX_DELAY_MS,
        idleUnloadMs: vars.COLLAB_IDLE_UNLOAD_MS,
        sessionSweepMs: vars.COLLAB_SESSION_SWEEP_MS,
        presenceCheckMs: vars.COLLAB_PRESENCE_CHECK_MS,
        messageRate: { burst: vars.COLLAB_MESSAGE_BURST, perSecond: vars.COLLAB_MESSAGE_RATE },
      },
    },
    warnings,
  };
}

function parseDurationSeconds(text: string): number {
  const unit = text.at(-1)!;
  const factor = { s: 1, m: 60, h: 3600, d: 86400 }[unit];
  return factor ? Number(text.slice(0, -1)) * factor : Number(text);
}
