import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { CalendarEvent } from './CalendarEvent';
import { EventVersion } from './EventVersion';
import { User } from './User';

/** One changed field of one version, with its value before and after. */
@Entity()
@Index({ properties: ['event', 'id'] })
export class EventChangeLog {
  [OptionalProps]?: 'oldValue' | 'newValue' | 'createdAt';

  @PrimaryKey()
  id!: number;

  @ManyToOne(() => CalendarEvent, { deleteRule: 'cascade' })
  event!: CalendarEvent;

  @ManyToOne(() => EventVersion, { deleteRule: 'cascade' })
  version!: EventVersion;

  @Property({ length: 50 })
  fieldName!: string;

  @Property({ type: 'json', nullable: true })
  oldValue: unknown = null;

  @Property({ type: 'json', nullable: true })
  newValue: unknown = null;

  @ManyToOne(() => User)
  createdBy!: User;

  @Property({ columnType: 'timestamptz' })
  createdAt: Date = new Date();
}
