import { Check, Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { User } from './User';

/** The recurrence rule as stored: either structured fields or an RFC 5545 RRULE. */
export type RecurrencePattern = Record<string, unknown>;

// Named CalendarEvent so it does not shadow the global `Event`.
@Entity({ tableName: 'event' })
@Check({ name: 'event_end_after_start', expression: 'end_time > start_time' })
@Index({ properties: ['startTime'] })
@Index({ properties: ['endTime'] })
@Index({ properties: ['seriesStart'] })
@Index({ properties: ['owner', 'icalUid'] })
export class CalendarEvent {
  [OptionalProps]?: 'description' | 'location' | 'isRecurring' | 'recurrencePattern' | 'seriesEnd' | 'icalUid' | 'version' | 'createdAt' | 'updatedAt';

  @PrimaryKey()
  id!: number;

  @Property({ length: 200 })
  title!: string;

  @Property({ type: 'text', default: '' })
  description: string = '';

  @Property({ columnType: 'timestamptz' })
  startTime!: Date;

  @Property({ columnType: 'timestamptz' })
  endTime!: Date;

  @Property({ type: 'string', length: 500, nullable: true })
  location: string | null = null;

  @Property({ default: false })
  isRecurring: boolean = false;

  @Property({ type: 'json', nullable: true })
  recurrencePattern: RecurrencePattern | null = null;

  /**
   * When the first occurrence starts: startTime, unless the pattern moves an occurrence earlier.
   * Derived on every write, as seriesEnd is, so range queries find a series by any occurrence.
   */
  @Property({ columnType: 'timestamptz' })
  seriesStart!: Date;

  /**
   * When the last occurrence ends (endTime unless the event recurs; null when it recurs for ever),
   * derived from the fields above on every write, so range queries find a series by any occurrence.
   */
  @Property({ columnType: 'timestamptz', nullable: true })
  seriesEnd: Date | null = null;

  @ManyToOne(() => User)
  owner!: User;

  /**
   * The UID of the iCalendar event it was imported from (null if it was not), which the export
   * gives it again and a second import of the same file recognises.
   */
  @Property({ length: 255, nullable: true })
  icalUid: string | null = null;

  /** The number of the newest EventVersion; the ETag clients send back in If-Match. */
  @Property({ default: 1 })
  version: number = 1;

  @Property({ columnType: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ columnType: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
