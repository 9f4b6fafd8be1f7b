import { Entity, OneToOne, OptionalProps, Property } from '@mikro-orm/core';
import { CalendarEvent } from './CalendarEvent';

/**
 * The event's collaborative Yjs document as of its last version: the state every live edit
 * builds on. Written in the same transaction as the Event row, so the two always agree.
 */
@Entity()
export class EventDocument {
  [OptionalProps]?: 'updatedAt';

  @OneToOne(() => CalendarEvent, { primary: true, owner: true, deleteRule: 'cascade' })
  event!: CalendarEvent;

  /** `Y.encodeStateAsUpdate` of the document. */
  @Property({ type: 'blob' })
  state!: Buffer;

  @Property({ columnType: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
