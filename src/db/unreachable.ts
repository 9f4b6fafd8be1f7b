/** SQLSTATEs of a server that cannot take the statement now but may soon: shutting down, starting up, full. */
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** Network failures as Node reports them, also on an AggregateError when every address of a host failed. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * The driver's own connection failures, which carry no code: pg's, pg-pool's and knex's pool's.
 * MikroORM rethrows them with the statement in front ("select ... - Connection terminated ...").
 */
const CONNECTION_FAILURE =
  /(?:^|- )(?:Connection terminated|timeout expired|Query read timeout|Client has encountered a connection error|timeout exceeded when trying to connect|Knex: Timeout acquiring a connection)/;

/**
 * Whether an error means the database could not be reached (worth retrying, or a 503), rather
 * than that it refused the statement: a connection exception (SQLSTATE class 08), a server
 * shutting down, starting up or out of connections, a network failure, or the driver's own
 * connection errors. Works on the driver's errors and on MikroORM's, which copy the code.
 */
export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('08') || TRANSIENT_SQLSTATES.has(code) || NETWORK_CODES.has(code))) return true;
  return err instanceof Error && CONNECTION_FAILURE.test(err.message);
}
