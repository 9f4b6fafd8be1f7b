import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { CalendarEvent } from './CalendarEvent';
import { User } from './User';

/** The event's own fields as the API names them, frozen at one version. */
export interface EventSnapshot {
  title: string;
  description: string;
  start_time: string;
  end_time: string;
  location: string | null;
  is_recurring: boolean;
  recurrence_pattern: Record<string, unknown> | null;
}

@Entity()
@Unique({ properties: ['event', 'versionNumber'] })
export class EventVersion {
  [OptionalProps]?: 'createdAt' | 'changeDescription';

  @PrimaryKey()
  id!: number;

  @ManyToOne(() => CalendarEvent, { deleteRule: 'cascade' })
  event!: CalendarEvent;

  @Property()
  versionNumber!: number;

  @Property({ type: 'json' })
  data!: EventSnapshot;

  @ManyToOne(() => User)
  createdBy!: User;

  @Property({ columnType: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'text', nullable: true })
  changeDescription: string | null = null;
}
