import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(__dirname, '../..');

/** Compiles the server once per test file that runs it as a real process. */
export function buildServer(): void {
  const result = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`build failed:\n${result.stdout}${result.stderr}`);
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything it logged, one JSON object per line. */
  logs: Record<string, unknown>[];
  /** SIGTERM, and wait for a clean exit. */
  stop(): Promise<void>;
  /**
   * SIGINT to its whole process group, as a terminal's Ctrl-C sends it, and wait for a clean exit.
   * Only for a process started with `processGroup`.
   */
  interrupt(): Promise<void>;
  /** SIGKILL: no shutdown of any kind. */
  kill(): Promise<void>;
}

/**
 * Every test user registers from 127.0.0.1, and some suites send one user's requests by the
 * thousand: these limits are tested on their own (auth.test.ts, platform.test.ts).
 */
export const TEST_LIMITS = { REGISTRATION_LIMIT: '100000', REQUEST_BURST: '100000' };

/**
 * Starts `node dist/src/server.js` as its own process and waits until it listens. With
 * `processGroup`, it leads a process group of its own, as a command started in a terminal does.
 */
export function startServerProcess(env: Record<string, string>, { processGroup = false } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['dist/src/server.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...TEST_LIMITS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: processGroup,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const logs: Record<string, unknown>[] = [];
  /** Sends the signal and waits for the exit, or kills it after 15 s and says so. */
  const endWith = async (signal: () => void) => {
    signal();
    const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timeout);
    if (child.signalCode === 'SIGKILL') {
      throw new Error(`server did not stop within 15 s; its last logs:\n${logs.slice(-15).map((entry) => JSON.stringify(entry)).join('\n')}`);
    }
  };
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === 'listening') {
        clearTimeout(timer);
        resolve({
          url: entry.url as string,
          child,
          logs,
          stop: () => endWith(() => child.kill('SIGTERM')),
          interrupt: () => endWith(() => process.kill(-child.pid!, 'SIGINT')),
          async kill() {
            child.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
  });
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
