import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

@Entity({ tableName: 'user' })
// Usernames keep the case they were registered with but are unique regardless of it.
@Index({ name: 'user_username_lower_unique', expression: 'create unique index "user_username_lower_unique" on "user" (lower("username"))' })
export class User {
  [OptionalProps]?: 'isActive' | 'calendarFeedHash' | 'createdAt' | 'updatedAt';

  @PrimaryKey()
  id!: number;

  /** Stored lower-cased. */
  @Property({ length: 255, unique: true })
  email!: string;

  @Property({ length: 50 })
  username!: string;

  @Property({ hidden: true, lazy: true })
  hashedPassword!: string;

  @Property({ default: true })
  isActive: boolean = true;

  /** SHA-256 of the secret in the user's calendar feed address; null while there is none. */
  @Property({ length: 64, nullable: true, unique: true, hidden: true, lazy: true })
  calendarFeedHash?: string | null;

  @Property({ columnType: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ columnType: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
