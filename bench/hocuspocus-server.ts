import { Server } from '@hocuspocus/server';

/** Hocuspocus with its defaults (documents in memory, no persistence): the baseline the bench compares with. */
async function main(): Promise<void> {
  const server = new Server({ port: 0, address: '127.0.0.1', quiet: true, stopOnSignals: true });
  await server.listen();
  console.log(JSON.stringify({ msg: 'listening', url: `ws://127.0.0.1:${server.address.port}` }));
}

void main();
