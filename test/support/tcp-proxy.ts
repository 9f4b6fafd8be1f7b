import { connect, createServer, type Socket } from 'node:net';

export interface DatabaseProxy {
  /** The database URL, through the proxy. */
  url: string;
  /** Drops every open connection and refuses new ones: the database is unreachable. */
  cut(): Promise<void>;
  /** Drops every open connection, and accepts new ones but never passes them on: a database that stops answering. */
  stall(): void;
  /** Connections held by `stall` so far. */
  readonly stalled: number;
  /** Passes connections on again, after `cut` or `stall`. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP relay to a PostgreSQL server that a test can cut and restore, to play an outage. */
export async function proxyDatabase(databaseUrl: string): Promise<DatabaseProxy> {
  const target = new URL(databaseUrl);
  const open = new Set<Socket>();
  let stalling = false;
  let stalled = 0;
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (stalling) {
      stalled += 1;
      return;
    }
    const upstream = connect(Number(target.port || 5432), target.hostname);
    track(upstream);
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const port = (server.address() as { port: number }).port;
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  const dropAll = () => {
    for (const socket of open) socket.destroy();
  };
  return {
    url: url.toString(),
    cut() {
      dropAll();
      // Closed, the port refuses connections (ECONNREFUSED) until restore listens again.
      return new Promise((resolve) => server.close(() => resolve()));
    },
    stall() {
      stalling = true;
      dropAll();
    },
    get stalled() {
      return stalled;
    },
    restore() {
      stalling = false;
      return server.listening ? Promise.resolve() : listen(port);
    },
    close() {
      dropAll();
      return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    },
  };
}
