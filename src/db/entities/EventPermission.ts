import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { CalendarEvent } from './CalendarEvent';
import { User } from './User';

export const ROLES = ['owner', 'editor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Who may do what on an event; the owner has a row too, so access is always one lookup. */
@Entity()
@Unique({ properties: ['event', 'user'] })
@Index({ properties: ['user', 'event'] })
export class EventPermission {
  [OptionalProps]?: 'createdAt' | 'updatedAt';

  @PrimaryKey()
  id!: number;

  @ManyToOne(() => CalendarEvent, { deleteRule: 'cascade' })
  event!: CalendarEvent;

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: User;

  @Enum({ items: () => ROLES, nativeEnumName: 'event_role' })
  role!: Role;

  @Property({ columnType: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ columnType: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
