import { connect, createServer, type Socket } from 'node:net';

export interface DatabaseProxy {
  /** The database URL, through the proxy. */
  url: string;
  /** Drops every open connection and refuses new ones: the database is unreachable. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP relay to a PostgreSQL server that a test can cut and restore, to play an outage. */
export async function proxyDatabase(databaseUrl: string): Promise<DatabaseProxy> {
  const target = new URL(databaseUrl);
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    track(client);
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
    restore: () => (server.listening ? Promise.resolve() : listen(port)),
    close() {
      dropAll();
      return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    },
  };
}
