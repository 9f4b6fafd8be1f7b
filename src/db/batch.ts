import type { EntityManager, Knex, MikroORM, Platform } from '@mikro-orm/postgresql';
import type pg from 'pg';

/** One SQL statement with `?` placeholders, as EntityManager.execute takes it. */
export interface Statement {
  sql: string;
  params: unknown[];
}

export type Row = Record<string, unknown>;

/**
 * A transaction whose statements go to PostgreSQL several at a time: each `send` is one round
 * trip, the first opening the transaction and the last (with `commit`) closing it. On a box where
 * the database shares the cores, every round trip also wakes a PostgreSQL process and sends ours
 * back to wait; the event write path (see EventsService.commit) needs two instead of five.
 *
 * Statements sent together still run one after the other, each with a snapshot of its own (READ
 * COMMITTED): one that waits for a row lock is followed by reads that see what the lock's
 * previous holder committed. Values are inlined as MikroORM inlines them for `execute` (its
 * platform's quoting), as PostgreSQL takes several statements in one message only without
 * parameters.
 */
export class BatchedTransaction {
  private begun: boolean;
  private ended = false;

  private constructor(
    private readonly platform: Platform,
    private readonly connection: pg.Client,
    /** False when joining a transaction the ORM opened, which begins and ends it. */
    private readonly ownsTransaction: boolean,
  ) {
    this.begun = !ownsTransaction;
  }

  /** Runs `work` in a transaction on a connection of the ORM's pool; rolls back if it throws. */
  static async run<T>(orm: MikroORM, work: (tx: BatchedTransaction) => Promise<T>): Promise<T> {
    const knex = orm.em.getConnection().getKnex();
    const connection = (await knex.client.acquireConnection()) as pg.Client;
    const tx = new BatchedTransaction(orm.em.getPlatform(), connection, true);
    try {
      const result = await work(tx);
      if (tx.begun && !tx.ended) await tx.send([], { commit: true });
      return result;
    } catch (err) {
      if (tx.begun && !tx.ended) await connection.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      knex.client.releaseConnection(connection);
    }
  }

  /**
   * Runs `work` inside the transaction that `em` has open (EntityManager.transactional), on its
   * connection: the statements become part of it, committed or rolled back with the rest, so one
   * transaction can both flush entities and take the write path. `commit` then only ends `work`'s part.
   */
  static async within<T>(em: EntityManager, work: (tx: BatchedTransaction) => Promise<T>): Promise<T> {
    const transaction = em.getTransactionContext<Knex.Transaction>();
    if (!transaction) throw new Error('No transaction is open');
    // A transaction's client hands out the one connection the transaction runs on.
    const connection = (await transaction.client.acquireConnection()) as pg.Client;
    return work(new BatchedTransaction(em.getPlatform(), connection, false));
  }

  /** Sends the statements in one round trip (none if there is nothing to send); returns each one's rows, in order. */
  async send(statements: Statement[], { commit = false } = {}): Promise<Row[][]> {
    if (this.ended) throw new Error('The transaction has ended');
    const parts = [
      ...(this.begun ? [] : ['begin']),
      ...statements.map((statement) => this.platform.formatQuery(statement.sql, statement.params)),
      ...(commit && this.ownsTransaction ? ['commit'] : []),
    ];
    if (!parts.length) {
      this.ended ||= commit;
      return [];
    }
    const opened = !this.begun;
    this.begun = true;
    const results = await this.connection.query(parts.join(';\n'));
    // Only once it went through: a failed commit leaves the transaction to roll back.
    if (commit) this.ended = true;
    // One result per statement; pg returns a lone result as itself.
    const all = (Array.isArray(results) ? results : [results]) as pg.QueryResult<Row>[];
    return all.slice(opened ? 1 : 0, (opened ? 1 : 0) + statements.length).map((result) => result.rows);
  }
}
