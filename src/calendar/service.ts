import type { MikroORM } from '@mikro-orm/postgresql';
import { hashOpaqueToken, newOpaqueToken } from '../auth/tokens';
import { User, type CalendarEvent } from '../db/entities';
import type { EventFiltersInput } from '../events/schemas';
import { changedFields, snapshotOfEntity, snapshotPattern, type EventSnapshot } from '../events/fields';
import type { Expander } from '../events/occurrences';
import type { EventsService, EventWithRole } from '../events/service';
import { AppError, NotFound } from '../http/errors';
import { RateLimiter } from '../http/rate-limit';
import { calendarTag, eventIdOfUid, toICalendar, writesSameSeries } from './ical';
import { readCalendar, type SkippedEvent } from './import';

/**
 * Calendar programs fetch a feed every few minutes at most (Apple's shortest setting is 5), so
 * 30 at once and one every 10 s after leaves room for several programs and devices.
 */
const FEED_FETCHES = { burst: 30, perSecond: 0.1 };

/**
 * An iCalendar object of events: its tag, and the object itself, written (with the owner's
 * expansion time) only when asked for: a calendar program that polls with the tag it has is
 * answered 304 without it.
 */
export interface CalendarFile {
  tag: string;
  write(): string;
}

export interface ImportOutcome {
  created: EventWithRole[];
  /** Events the caller had already, changed by the file. */
  updated: EventWithRole[];
  skipped: SkippedEvent[];
}

/**
 * The caller's events for calendar programs: exported once, or fetched by the program on its own
 * schedule from the user's feed address. A program that subscribes to a feed cannot send an access
 * token, so the address holds a secret: it reads the calendar and nothing else, and a new one
 * ends the one before.
 */
export class CalendarService {
  /** Fetches of each user's feed: a leaked address cannot be fetched without end, at the owner's cost. */
  private readonly feedFetches = new RateLimiter<number>(FEED_FETCHES, 'fetches of this feed');

  constructor(
    private readonly orm: MikroORM,
    private readonly events: EventsService,
  ) {}

  /** The caller's events that match the filters, as an iCalendar object; `domain` makes UIDs unique beyond this server. */
  async export(actorId: number, filters: EventFiltersInput, domain: string): Promise<CalendarFile> {
    const events = (await this.events.all(actorId, filters)).map(({ event }) => event);
    return { tag: calendarTag(events, domain), write: () => toICalendar(events, domain, this.events.expanderFor(actorId)) };
  }

  /**
   * The events of an iCalendar object, made the caller's in one transaction; those it cannot hold
   * are skipped. An event the caller already has by its UID, their own or shared with them (from
   * an earlier import of the file, or in a file exported from here: `domain` tells this server's
   * UIDs), is not made again but takes the file's fields in the same transaction, through the
   * write path like any edit: a new version if they differ, which a rollback undoes.
   */
  async import(actorId: number, calendar: string, floatingZone: string, domain: string): Promise<ImportOutcome> {
    const { events, skipped } = readCalendar(calendar, floatingZone);
    if (!events.length) return { created: [], updated: [], skipped };
    const expander = this.events.expanderFor(actorId);
    const { created, repeated } = await this.events.importMany(
      actorId,
      events,
      (uid) => eventIdOfUid(uid, domain),
      (event, fields) => changesByFile(event, fields, expander),
    );
    const updated: EventWithRole[] = [];
    for (const { draft, eventId, outcome } of repeated) {
      if (!(outcome instanceof AppError) && outcome.version) {
        updated.push(outcome);
        continue;
      }
      const reason = outcome instanceof AppError ? `which could not take the file's fields: ${outcome.message}` : 'and unchanged';
      skipped.push({ uid: draft.icalUid, title: draft.fields.title, reason: `already here, as event ${eventId}, ${reason}` });
    }
    return { created, updated, skipped };
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
  async feed(secret: string, domain: string): Promise<CalendarFile> {
    const owner = await this.orm.em.findOne(User, { calendarFeedHash: hashOpaqueToken(secret), isActive: true });
    if (!owner) throw new NotFound('No such calendar feed');
    this.feedFetches.spend(owner.id);
    return this.export(owner.id, {}, domain);
  }
}

/**
 * The fields the file gives the event other values: its pattern only if the file's is another
 * series, not the same one in another form (the export writes a rule in RRULE's form, and leaves
 * out changes that change no occurrence).
 */
function changesByFile(event: CalendarEvent, fields: EventSnapshot, expander: Expander): Partial<EventSnapshot> {
  const changed = changedFields(snapshotOfEntity(event), fields)
    .map(({ field }) => field)
    .filter((field) => field !== 'recurrence_pattern' || !writesSameSeries(event, snapshotPattern(fields), expander));
  return Object.fromEntries(changed.map((field) => [field, fields[field]]));
}
