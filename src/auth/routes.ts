import { defineRoute, type AppContext, type Route } from '../http/route';
import { errorResponse } from '../http/schemas';
import { LoginBody, LogoutBody, presentUser, RefreshBody, RegisterBody, TokenResponse, UserResponse } from './schemas';
import type { AuthService, IssuedTokens } from './service';

const TAG = 'auth';
const RETRY_AFTER = { 'Retry-After': 'Seconds until such requests are accepted again' };

export function authRoutes(auth: AuthService): Route[] {
  return [
    defineRoute({
      method: 'post',
      path: '/auth/register',
      tag: TAG,
      public: true,
      summary: 'Create an account',
      description: 'Each client address may register a limited number of times an hour (429 beyond).',
      body: RegisterBody,
      responses: {
        201: { description: 'The new user', schema: UserResponse },
        409: errorResponse('Email or username taken'),
        429: { ...errorResponse('Too many registrations from this address'), headers: RETRY_AFTER },
      },
      async handler(ctx, { body }) {
        ctx.status = 201;
        ctx.body = presentUser(await auth.register(body, ctx.ip));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/auth/login',
      tag: TAG,
      public: true,
      summary: 'Log in with username (or email) and password',
      description:
        'Accepts JSON or the OAuth2 password form. Wrong credentials answer the same whether or not the user exists. ' +
        'After too many failed logins to one account from one address, or to any accounts from one address, logins from there are refused for a while (429).',
      body: LoginBody,
      bodyFormats: ['json', 'form'],
      responses: {
        200: { description: 'A new session', schema: TokenResponse },
        401: errorResponse('Wrong credentials'),
        429: { ...errorResponse('Too many failed logins to this account, or to any, from this address'), headers: RETRY_AFTER },
      },
      async handler(ctx, { body }) {
        sendTokens(ctx, await auth.login(body.username, body.password, ctx.ip));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/auth/refresh',
      tag: TAG,
      public: true,
      summary: 'Trade a refresh token for a new pair',
      description: 'The presented token is used up. Presenting a used token again revokes its whole session.',
      body: RefreshBody,
      responses: { 200: { description: 'A new token pair', schema: TokenResponse }, 401: errorResponse('Unknown, used, expired or revoked refresh token') },
      async handler(ctx, { body }) {
        sendTokens(ctx, await auth.refresh(body.refresh_token));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/auth/logout',
      tag: TAG,
      summary: 'End this session',
      description: 'Revokes the session of the access token, and the one of `refresh_token` when given.',
      body: LogoutBody,
      responses: { 204: { description: 'Logged out' } },
      async handler(ctx, { body, caller }) {
        await auth.logout(caller, body.refresh_token);
        ctx.status = 204;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/auth/me',
      tag: TAG,
      summary: 'The current user',
      responses: { 200: { description: 'The caller', schema: UserResponse } },
      async handler(ctx, { caller }) {
        ctx.body = presentUser(await auth.currentUser(caller));
      },
    }),
  ];
}

function sendTokens(ctx: AppContext, issued: IssuedTokens): void {
  // Token responses must not be cached (RFC 6749 section 5.1).
  ctx.set('Cache-Control', 'no-store');
  const body: TokenResponse = {
    access_token: issued.accessToken,
    refresh_token: issued.refreshToken,
    token_type: 'bearer',
    expires_in: issued.expiresIn,
    user: presentUser(issued.user),
  };
  ctx.body = body;
}
