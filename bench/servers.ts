/**
 * What the benchmarks share: servers under test, each in a process of its own, our server's
 * database and its REST API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded';
import type { Pause } from './server-trace';

/** This checkout, whose build the benchmarks run unless told another (BENCH_BASELINE). */
export const ROOT = path.resolve(__dirname, '../..');
/** Another checkout to compare with, side by side in the same run (BENCH_BASELINE, built there). */
export const BASELINE_ROOT = process.env.BENCH_BASELINE && path.resolve(process.env.BENCH_BASELINE);
const EXPLAIN = Boolean(process.env.BENCH_EXPLAIN);

export interface ServerProcess {
  url: string;
  pid: number;
  rssMiB(): number;
  /** CPU time (user + system) the process has used so far, in ms. */
  cpuMs(): number;
  /** The server's GC pauses and event-loop stalls so far (BENCH_EXPLAIN only). */
  pauses?(): Pause[];
  stop(): Promise<void>;
}

/** CPU time of a process, from fields 14 and 15 of /proc/<pid>/stat (clock ticks, 100 per second on Linux). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU time of the embedded PostgreSQL: its postmaster and every process it started. */
function postgresCpuMs(dataDir: string): number {
  const postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let total = processCpuMs(postmaster);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent's pid.
      if (Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === postmaster) total += processCpuMs(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

export function spawnServer(script: string, env: Record<string, string>, root = ROOT): Promise<ServerProcess> {
  // BENCH_SERVER_FLAGS (e.g. --cpu-prof) are node flags for the servers only.
  const flags = process.env.BENCH_SERVER_FLAGS?.split(' ').filter(Boolean) ?? [];
  const traceFile = EXPLAIN ? path.join(tmpdir(), `neofi-bench-trace-${randomBytes(4).toString('hex')}.jsonl`) : undefined;
  if (traceFile) flags.push('--require', path.join(__dirname, 'server-trace.js'));
  const child: ChildProcess = spawn(process.execPath, [...flags, script], {
    cwd: root,
    env: { PATH: process.env.PATH, ...env, ...(traceFile ? { BENCH_TRACE_FILE: traceFile } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { msg?: string; url?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.msg !== 'listening') return;
      resolve({
        url: entry.url!,
        pid: child.pid!,
        rssMiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024,
        cpuMs: () => processCpuMs(child.pid!),
        ...(traceFile && {
          // 'a+' creates the file if the server has noted nothing yet.
          pauses: () =>
            readFileSync(traceFile, { encoding: 'utf8', flag: 'a+' })
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line) as Pause),
        }),
        async stop() {
          child.kill('SIGTERM');
          await exited;
          if (traceFile) rmSync(traceFile, { force: true });
        },
      });
    });
  });
}

/** Our server, as built in `root`, on its own database in the PostgreSQL at `serverUrl`; `env` adds settings. */
export async function startOurServer(serverUrl: string, root = ROOT, env: Record<string, string> = {}): Promise<ServerProcess> {
  return spawnServer(
    'dist/src/server.js',
    {
      NODE_ENV: 'production',
      JWT_SECRET: randomBytes(32).toString('hex'),
      DATABASE_URL: await createDatabase(serverUrl),
      HOST: '127.0.0.1',
      PORT: '0',
      // info: the 'listening' line carries the URL.
      LOG_LEVEL: 'info',
      COLLAB_ADAPTER: process.env.BENCH_ADAPTER ?? 'postgres',
      // Every benchmark user registers from 127.0.0.1, and the burst measures throughput, not the
      // limits on what one user or socket may send.
      REGISTRATION_LIMIT: '100000',
      REQUEST_BURST: '1000000',
      COLLAB_MESSAGE_BURST: '1000000',
      ...env,
    },
    root,
  );
}

/** The PostgreSQL the benchmarks use: BENCH_DATABASE_URL, or an embedded one whose CPU time they can read. */
export async function startDatabase(): Promise<{ url: string; cpuMs?: () => number; stop(): Promise<void> }> {
  if (process.env.BENCH_DATABASE_URL) return { url: process.env.BENCH_DATABASE_URL, stop: async () => {} };
  const dataDir = path.join(tmpdir(), `neofi-bench-pg-${randomBytes(4).toString('hex')}`);
  const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false });
  return { url: embedded.url, cpuMs: () => postgresCpuMs(dataDir), stop: () => embedded.stop() };
}

/** A fresh database on the PostgreSQL at `serverUrl`, for one server's run. */
export async function createDatabase(serverUrl: string): Promise<string> {
  const name = `neofi_bench_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  await client.query(`create database "${name}"`);
  await client.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Our REST API: a POST, and a user registered and logged in. */
export function ourApi(serverUrl: string) {
  const post = async (route: string, body: unknown, token?: string) => {
    const response = await fetch(`${serverUrl}/api/v1${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${route}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<any>;
  };
  const login = async (name: string) => {
    const user = await post('/auth/register', { email: `${name}@bench.test`, username: name, password: 'bench-password' });
    const tokens = await post('/auth/login', { username: name, password: 'bench-password' });
    return { id: user.id as number, token: tokens.access_token as string };
  };
  return { post, login };
}
