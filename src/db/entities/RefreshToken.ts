import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { AuthSession } from './AuthSession';

/** A refresh token is usable once; only its SHA-256 is stored. */
@Entity()
export class RefreshToken {
  [OptionalProps]?: 'createdAt' | 'usedAt';

  @PrimaryKey()
  id!: number;

  @ManyToOne(() => AuthSession, { deleteRule: 'cascade', index: true })
  session!: AuthSession;

  @Property({ length: 64, unique: true })
  tokenHash!: string;

  @Property({ columnType: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ columnType: 'timestamptz' })
  expiresAt!: Date;

  @Property({ columnType: 'timestamptz', nullable: true })
  usedAt: Date | null = null;
}
