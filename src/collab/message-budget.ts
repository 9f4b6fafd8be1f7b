import { TooManyRequests } from '../http/errors';

export interface MessageRate {
  /** Messages a socket may send at once... */
  burst: number;
  /** ...and each second after that. */
  perSecond: number;
}

/**
 * What one socket may send, as a token bucket: `burst` messages at once, refilled at `perSecond`.
 * Every message costs the server work (an update, a database insert and a write to everyone in
 * the room; a join, a query), so one client cannot take the server from the others. The limits
 * are far above what a person typing sends (a keystroke is one update).
 */
export class MessageBudget {
  private tokens: number;
  private refilledAt = performance.now();

  constructor(private readonly rate: MessageRate) {
    this.tokens = rate.burst;
  }

  /** Spends one message; refuses it, with the seconds until the next is accepted, when none is left. */
  spend(): void {
    const now = performance.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.rate.perSecond);
    this.refilledAt = now;
    if (this.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - this.tokens) / this.rate.perSecond));
      throw new TooManyRequests(`Too many messages: send again in ${wait} s`, wait);
    }
    this.tokens -= 1;
  }
}
