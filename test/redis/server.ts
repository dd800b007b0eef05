import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';

/** Why the Redis tests cannot run here, or undefined when `redis-server` is on the PATH. */
export const redisMissing: string | undefined =
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
    ? undefined
    : 'redis-server not found on PATH (.ci/run installs it with apt-get install redis-server)';

/** A redis-server of a test's own: a free loopback port, a temporary directory, no persistence. */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** SIGKILLs the server (a crash: nothing is saved). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty, and waits for PING. */
  restart(): Promise<void>;
  /** Stops it for good and removes its directory. */
  stop(): Promise<void>;
}

/** A port the OS had free a moment ago: bind port 0, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rxjs-bp-redis-'));
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    child = proc;
    await waitForPing(port, proc);
  };
  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: launch,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPing(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode} before answering PING`);
    const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
    client.on('error', () => {});
    try {
      await client.connect();
      const pong = await client.ping();
      destroyQuietly(client);
      if (pong === 'PONG') return;
    } catch {
      destroyQuietly(client);
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A connected client whose errors (reconnect attempts) are collected, not thrown. */
export async function connectClient(url: string) {
  const client = createClient({ url, socket: { reconnectStrategy: (retries) => Math.min(20 * 2 ** retries, 200) } });
  const errors: unknown[] = [];
  client.on('error', (err: unknown) => errors.push(err));
  await client.connect();
  return Object.assign(client, { errors });
}

/** Closes a client now; one that never connected (or already closed) is left as it is. */
export function destroyQuietly(client: { destroy(): void }): void {
  try {
    client.destroy();
  } catch {
    // not open
  }
}
