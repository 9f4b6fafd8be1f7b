import type { MikroORM } from '@mikro-orm/postgresql';
import { hashOpaqueToken, newOpaqueToken } from '../auth/tokens';
import { User } from '../db/entities';
import type { EventFiltersInput } from '../events/schemas';
import type { EventsService, EventWithRole } from '../events/service';
import { NotFound } from '../http/errors';
import { eventIdOfUid, toICalendar } from './ical';
import { readCalendar, type SkippedEvent } from './import';

/**
 * The caller's events for calendar programs: exported once, or fetched by the program on its own
 * schedule from the user's feed address. A program that subscribes to a feed cannot send an access
 * token, so the address holds a secret: it reads the calendar and nothing else, and a new one
 * ends the one before.
 */
export class CalendarService {
  constructor(
    private readonly orm: MikroORM,
    private readonly events: EventsService,
  ) {}

  /** The caller's events that match the filters, as an iCalendar object; `domain` makes UIDs unique beyond this server. */
  async export(actorId: number, filters: EventFiltersInput, domain: string): Promise<string> {
    const expander = this.events.expanderFor(actorId);
    const events = (await this.events.all(actorId, filters)).map(({ event }) => event);
    return toICalendar(events, domain, expander);
  }

  /**
   * The events of an iCalendar object, made the caller's in one transaction. Those it cannot hold
   * are skipped, and so are those the caller already has by their UID: from an earlier import of
   * the file, or their own events in a file exported from here (`domain` tells this server's UIDs).
   */
  async import(actorId: number, calendar: string, floatingZone: string, domain: string): Promise<{ created: EventWithRole[]; skipped: SkippedEvent[] }> {
    const { events, skipped } = readCalendar(calendar, floatingZone);
    if (!events.length) return { created: [], skipped };
    const { created, repeated } = await this.events.importMany(actorId, events, (uid) => eventIdOfUid(uid, domain));
    const again = repeated.map(({ draft, eventId }) => ({ uid: draft.icalUid, title: draft.fields.title, reason: `already here, as event ${eventId}` }));
    return { created, skipped: [...skipped, ...again] };
  }

  /** A new secret for the user's feed address; the address before it stops working. */
  async renewFeed(userId: number): Promise<string> {
    const { token, hash } = newOpaqueToken();
    await this.orm.em.nativeUpdate(User, { id: userId }, { calendarFeedHash: hash });
    return token;
  }

  async revokeFeed(userId: number): Promise<void> {
    await this.orm.em.nativeUpdate(User, { id: userId }, { calendarFeedHash: null });
  }

  /** Every event of the feed's owner; NotFound for a secret that no active user holds. */
  async feed(secret: string, domain: string): Promise<string> {
    const owner = await this.orm.em.findOne(User, { calendarFeedHash: hashOpaqueToken(secret), isActive: true });
    if (!owner) throw new NotFound('No such calendar feed');
    return this.export(owner.id, {}, domain);
  }
}
