import { z } from 'zod';
import { TimeZone } from '../events/recurrence';
import { EventFilters, EventResponse } from '../events/schemas';

/** The export takes the list's filters without paging: every event that matches. */
export const CalendarExportQuery = EventFilters;

export const FeedParams = z.object({
  secret: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'is not a calendar feed secret')
    .meta({ description: 'The secret of the address POST /calendar-feed gave' }),
});

export const FeedResponse = z
  .object({
    url: z.string().meta({ description: 'The feed address, to subscribe to from a calendar program; shown only now' }),
  })
  .meta({ id: 'CalendarFeed' });

export const ICalendarBody = z.string().min(1, 'must be an iCalendar object').meta({ description: 'An RFC 5545 iCalendar object', example: 'BEGIN:VCALENDAR\r\n...' });

export const ImportQuery = z.object({
  time_zone: TimeZone.default('UTC').meta({
    description: "The IANA zone whose clock the file's floating times (those with no zone) are read on; a series in floating time keeps that zone's clock. UTC when absent.",
  }),
});

export const ImportResult = z
  .object({
    items: z.array(EventResponse).meta({ description: 'The events made, in the order of the file' }),
    updated: z.array(EventResponse).meta({ description: "Events the caller had already (by UID) that took the file's fields, each at a new version" }),
    skipped: z
      .array(
        z.object({
          uid: z.string().nullable(),
          title: z.string().nullable(),
          reason: z.string(),
        }),
      )
      .meta({ description: 'The events of the file that were not imported, and why' }),
  })
  .meta({ id: 'CalendarImport' });
