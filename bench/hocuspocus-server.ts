import { Server, type Extension, type onChangePayload } from '@hocuspocus/server';
import pg from 'pg';

/**
 * Every update stored as it arrives, as our server stores them: one connection, each insert
 * carrying the updates that arrived while the one before was in flight, committed durably (the
 * database's defaults). Hocuspocus runs extensions' onChange after it has sent the update to the
 * document's connections, so the fan-out goes first, as in ours. It has no acks: nothing waits
 * for the insert; this measures what storing costs it.
 */
class UpdateLog implements Extension {
  private queued: { document: string; update: Uint8Array }[] = [];
  private inFlight = false;

  constructor(private readonly client: pg.Client) {}

  async onChange({ documentName, update }: onChangePayload): Promise<void> {
    this.queued.push({ document: documentName, update });
    this.flush();
  }

  private flush(): void {
    if (this.inFlight || !this.queued.length) return;
    const batch = this.queued;
    this.queued = [];
    this.inFlight = true;
    this.client
      .query('insert into hocuspocus_update (document, "update") select * from unnest($1::text[], $2::bytea[])', [
        batch.map((stored) => stored.document),
        batch.map((stored) => Buffer.from(stored.update)),
      ])
      .catch((err) => console.error(err))
      .finally(() => {
        this.inFlight = false;
        this.flush();
      });
  }
}

/**
 * Hocuspocus with its defaults (documents in memory, no persistence): the baseline the bench
 * compares with. With HOCUSPOCUS_STORE_URL, it also stores every update in that database (UpdateLog).
 */
async function main(): Promise<void> {
  const extensions: Extension[] = [];
  if (process.env.HOCUSPOCUS_STORE_URL) {
    const client = new pg.Client({ connectionString: process.env.HOCUSPOCUS_STORE_URL });
    await client.connect();
    // As our update log: read back by document, so indexed by it.
    await client.query(
      'create table if not exists hocuspocus_update (id bigserial primary key, document text not null, "update" bytea not null, created_at timestamptz not null default now())',
    );
    await client.query('create index if not exists hocuspocus_update_document on hocuspocus_update (document)');
    extensions.push(new UpdateLog(client));
  }
  const server = new Server({ port: 0, address: '127.0.0.1', quiet: true, stopOnSignals: true, extensions });
  await server.listen();
  console.log(JSON.stringify({ msg: 'listening', url: `ws://127.0.0.1:${server.address.port}` }));
}

void main();
