import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPull } from '../../index.js';
import { toRedisStream } from '../../redis/index.js';
import { connectClient, destroyQuietly, redisMissing, startRedis, type TestRedis } from './server.js';
import { pendingIds, sleep, until } from './util.js';

const suite = redisMissing === undefined ? describe : describe.skip;
const ENTRIES = 20_000;
const CLAIM_IDLE = 2000;
const CONCURRENCY = 8;

suite(redisMissing === undefined ? 'kill test' : `kill test (skipped: ${redisMissing})`, () => {
  let server: TestRedis;
  let client: Awaited<ReturnType<typeof connectClient>>;
  let monitor: Awaited<ReturnType<typeof connectClient>> | undefined;
  let dir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    server = await startRedis();
    client = await connectClient(server.url);
    dir = mkdtempSync(join(tmpdir(), 'rxjs-bp-kill-'));
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    if (monitor !== undefined) destroyQuietly(monitor);
    if (client !== undefined) destroyQuietly(client);
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  function startConsumer(name: string): { child: ChildProcess; log: string; ready: Promise<void> } {
    const log = join(dir, `${name}.log`);
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'consumer-child.ts')], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: {
        ...process.env,
        REDIS_URL: server.url,
        STREAM: 'jobs',
        GROUP: 'g',
        CONSUMER: name,
        LOG: log,
        CLAIM_IDLE: String(CLAIM_IDLE),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
    });
    return { child, log, ready };
  }

  const lines = (log: string): string[] => {
    try {
      return readFileSync(log, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };

  it('SIGKILL one of three consumers mid-work: every id processed, nothing pending, each acked once, duplicates only from the dead one', async () => {
    await client.sendCommand(['XGROUP', 'CREATE', 'jobs', 'g', '0', 'MKSTREAM']);
    // Every XACK the server executes, by id (MONITOR: what Redis received, not what we meant to send).
    const acks = new Map<string, number>();
    monitor = await connectClient(server.url);
    await monitor.monitor((line) => {
      const match = /"XACK" "jobs" "g" "([^"]+)"/.exec(line);
      if (match !== null) acks.set(match[1]!, (acks.get(match[1]!) ?? 0) + 1);
    });
    const consumers = ['a', 'b', 'victim'].map(startConsumer);
    await Promise.all(consumers.map((c) => c.ready));
    const started = Date.now();
    const ids = await lastValueFrom(
      fromPull(rangeIterable(ENTRIES)).pipe(
        toRedisStream({ client, stream: 'jobs', fields: (i: number) => ({ i }), window: 64 }),
        toArray(),
      ),
    );
    expect(ids).toHaveLength(ENTRIES);
    const victim = consumers[2]!;
    await until(() => lines(victim.log).length >= 1500, 'the victim to be mid-run', 30_000);
    // Mid-work: kill it while its pending list is busy (slots refill within a millisecond).
    await until(async () => (await pendingIds(client, 'jobs', 'g', 'victim')).length >= 4, 'the victim busy', 10_000);
    const exited = new Promise((resolve) => victim.child.once('exit', resolve));
    victim.child.kill('SIGKILL');
    await exited;
    await sleep(100); // the socket is closed; whatever the victim sent has been executed
    const heldAtKill = await pendingIds(client, 'jobs', 'g', 'victim');
    expect(heldAtKill.length).toBeGreaterThan(0);
    expect(heldAtKill.length).toBeLessThanOrEqual(CONCURRENCY);

    const processed = () => [...consumers.map((c) => lines(c.log))].flat();
    await until(
      async () => new Set(processed()).size === ENTRIES && (await pendingIds(client, 'jobs', 'g')).length === 0,
      'the survivors to finish',
      45_000,
    );
    for (const c of consumers.slice(0, 2)) {
      const exit = new Promise<number | null>((resolve) => c.child.once('exit', resolve));
      c.child.kill('SIGTERM');
      expect(await exit).toBe(0);
    }
    const elapsed = Date.now() - started;

    const all = processed();
    const counts = new Map<string, number>();
    for (const id of all) counts.set(id, (counts.get(id) ?? 0) + 1);
    // every id processed at least once
    expect(ids.filter((id) => !counts.has(id))).toEqual([]);
    // the pending list is empty
    expect((await client.sendCommand<unknown[]>(['XPENDING', 'jobs', 'g']))[0]).toBe(0);
    // every entry acked exactly once
    await sleep(100);
    expect(acks.size).toBe(ENTRIES);
    expect([...acks].filter(([, k]) => k !== 1)).toEqual([]);
    // ids processed twice: at most the dead consumer's in-flight work at the kill
    const twice = [...counts].filter(([, k]) => k > 1).map(([id]) => id);
    expect([...counts.values()].every((k) => k <= 2)).toBe(true);
    expect(twice.filter((id) => !heldAtKill.includes(id))).toEqual([]);
    expect(twice.length).toBeLessThanOrEqual(heldAtKill.length);
    console.log(
      `kill test: ${ENTRIES} entries, 3 consumers x ${CONCURRENCY}, victim held ${heldAtKill.length} at the kill, ` +
        `${twice.length} processed twice, ${acks.size} acks (each once), ${elapsed} ms`,
    );
  }, 60_000);
});

function* rangeIterable(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}
