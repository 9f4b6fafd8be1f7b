/** The REST API under /api/v1, with tokens kept for the tab and refreshed once when they expire. */

export interface User {
  id: number;
  username: string;
  email: string;
}

interface Tokens {
  access_token: string;
  refresh_token: string;
  user: User;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const STORAGE_KEY = 'neofi-demo-session';

/** A request body and its media type. */
interface Body {
  type: string;
  text: string;
}

function json(value: unknown): Body | undefined {
  return value === undefined ? undefined : { type: 'application/json', text: JSON.stringify(value) };
}

export class Api {
  private tokens: Tokens | null = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null');
  /** The refresh under way: a refresh token works once, and a second use would end the session. */
  private refreshing: Promise<void> | null = null;

  get user(): User | null {
    return this.tokens?.user ?? null;
  }

  get accessToken(): string {
    return this.tokens?.access_token ?? '';
  }

  async register(email: string, username: string, password: string): Promise<void> {
    await this.request('POST', '/auth/register', json({ email, username, password }), false);
    await this.login(username, password);
  }

  async login(username: string, password: string): Promise<void> {
    this.keep(await this.request<Tokens>('POST', '/auth/login', json({ username, password }), false));
  }

  async logout(): Promise<void> {
    const refresh = this.tokens?.refresh_token;
    try {
      if (refresh) await this.request('POST', '/auth/logout', json({ refresh_token: refresh }));
    } finally {
      this.keep(null);
    }
  }

  /** Swaps the refresh token for a new pair (the old one stops working); callers at once share one swap. */
  refresh(): Promise<void> {
    this.refreshing ??= this.swapTokens().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async swapTokens(): Promise<void> {
    if (!this.tokens) throw new ApiError(401, 'unauthorized', 'Log in first');
    try {
      this.keep(await this.request<Tokens>('POST', '/auth/refresh', json({ refresh_token: this.tokens.refresh_token }), false));
    } catch (err) {
      this.keep(null);
      throw err;
    }
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, json(body));
  }

  /** Sends an iCalendar file as it is. */
  postCalendar<T>(path: string, calendar: string): Promise<T> {
    return this.request<T>('POST', path, { type: 'text/calendar', text: calendar });
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, json(body));
  }

  private async request<T>(method: string, path: string, body?: Body, authorized = true, retried = false): Promise<T> {
    const response = await fetch(`/api/v1${path}`, {
      method,
      headers: {
        ...(body ? { 'content-type': body.type } : {}),
        ...(authorized ? { authorization: `Bearer ${this.accessToken}` } : {}),
      },
      body: body?.text,
    });
    if (response.status === 401 && authorized && !retried && this.tokens) {
      await this.refresh();
      return this.request<T>(method, path, body, authorized, true);
    }
    const json = (response.headers.get('content-type') ?? '').includes('json');
    const payload = response.status === 204 ? null : json ? await response.json() : await response.text();
    if (!response.ok) throw new ApiError(response.status, payload?.error?.code ?? 'error', payload?.error?.message ?? response.statusText);
    return payload as T;
  }

  private keep(tokens: Tokens | null): void {
    this.tokens = tokens;
    if (tokens) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(tokens));
    else sessionStorage.removeItem(STORAGE_KEY);
  }
}
