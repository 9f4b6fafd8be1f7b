import { connect, createServer, type Socket } from 'node:net';

export interface DatabaseProxy {
  /** The database URL, through the proxy. */
  url: string;
  /** Drops every open connection and refuses new ones: the database is unreachable. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** A TCP relay to a PostgreSQL server that a test can cut and restore, to play an outage. */
export async function proxyDatabase(databaseUrl: string): Promise<DatabaseProxy> {
  const target = new URL(databaseUrl);
  const open = new Set<Socket>();
  let down = false;
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = connect(Number(target.port || 5432), target.hostname);
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as { port: number }).port);
  const dropAll = () => {
    for (const socket of open) socket.destroy();
  };
  return {
    url: url.toString(),
    cut() {
      down = true;
      dropAll();
    },
    restore() {
      down = false;
    },
    close() {
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
