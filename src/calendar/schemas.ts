import { z } from 'zod';
import { EventFilters } from '../events/schemas';

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

export const ICalendarBody = z.string().meta({ description: 'An RFC 5545 iCalendar object', example: 'BEGIN:VCALENDAR\r\n...' });
