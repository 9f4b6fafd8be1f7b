import { BigIntType, Entity, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { CalendarEvent } from './CalendarEvent';
import { User } from './User';

/**
 * One acknowledged live edit (a Yjs update) not yet folded into the EventDocument. Appended before
 * the editor's ack, so a crash loses nothing; the next version folds the rows in and deletes them.
 */
@Entity()
export class EventDocumentUpdate {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: new BigIntType('number') })
  id!: number;

  @ManyToOne(() => CalendarEvent, { deleteRule: 'cascade', index: true })
  event!: CalendarEvent;

  /** Who made the edit: the changelog names them for the fields it changed. */
  @ManyToOne(() => User, { deleteRule: 'cascade' })
  author!: User;

  @Property({ type: 'blob' })
  update!: Buffer;

  @Property({ columnType: 'timestamptz' })
  createdAt: Date = new Date();
}
