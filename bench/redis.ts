// npm run bench:redis [-- --n 20000] [-- --reps 3] [-- --batch 50] [-- --c 16] [-- --json]
// fromRedisStream + ackAfter (mergeWorkers) against a hand-written XREADGROUP/XACK loop with the
// same batch and concurrency, on a redis-server of its own; the runs are interleaved (ours, the
// loop, ours, ...) so that a noisy machine slows both alike. Then the heap: what our pipeline
// retains mid-run over n and 4n entries, which must not grow with the number of entries.
// `runRedisBench(options)` returns the same figures for `npm run bench`.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ackAfter, fromRedisStream, type RedisStreamClient } from '../redis/index.js';
import { connectClient, destroyQuietly, startRedis } from '../test/redis/server.js';

export interface RedisBenchOptions {
  /** Entries per timed run (default 20,000). */
  n?: number;
  /** Timed runs of each variant (default 3). */
  reps?: number;
  /** COUNT cap of a read, for both (default 50). */
  batch?: number;
  /** Work in parallel, for both (default 16). */
  concurrency?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface RedisBenchResults {
  entries: number;
  batch: number;
  concurrency: number;
  /** Median ms of each variant, and ours / loop. */
  oursMs: number;
  loopMs: number;
  ratio: number;
  /** Every timed run, in the order run. */
  runs: { variant: 'ours' | 'loop'; ms: number }[];
  /**
   * Heap retained above the baseline (MB) at 1/4, 1/2 and 3/4 of a run over n and over 4n
   * entries, and the growth between the first and last mark of the 4n run per entry processed.
   */
  heap: { smallEntries: number; small: number[]; largeEntries: number; large: number[]; bytesPerEntry: number };
}

type Client = Awaited<ReturnType<typeof connectClient>>;

/** The work of one entry: a turn of the event loop, so that the cost measured is the plumbing's. */
const work = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const gc = (globalThis as { gc?: () => void }).gc;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function fill(client: Client, stream: string, n: number): Promise<void> {
  await client.sendCommand(['XGROUP', 'CREATE', stream, 'g', '0', 'MKSTREAM']);
  for (let i = 0; i < n; i += 1000) {
    const writes: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(n, i + 1000); j++)
      writes.push(client.sendCommand(['XADD', stream, '*', 'i', String(j)]));
    await Promise.all(writes);
  }
}

/** Our pipeline until n entries are worked and acked (each result follows its confirmed ack). */
function ours(
  client: RedisStreamClient,
  stream: string,
  n: number,
  batch: number,
  concurrency: number,
  onProgress?: (done: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = 0;
    const sub = fromRedisStream({ client, stream, group: 'g', consumer: 'c', batch, block: 100 })
      .pipe(ackAfter(work, { concurrency }))
      .subscribe({
        next() {
          done++;
          onProgress?.(done);
          if (done === n) {
            sub?.unsubscribe();
            resolve();
          }
        },
        error: reject,
      });
  });
}

/**
 * The loop people write: read a batch, work it with at most `concurrency` at once, XACK each
 * entry after its work, read the next batch. Blocking reads on a connection of their own.
 */
async function loop(client: Client, stream: string, n: number, batch: number, concurrency: number): Promise<void> {
  const reader = client.duplicate();
  reader.on('error', () => {});
  await reader.connect();
  let done = 0;
  try {
    while (done < n) {
      const args = ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', String(batch), 'BLOCK', '100', 'STREAMS', stream, '>'];
      const reply = await reader.sendCommand<Record<string, [string, string[]][]> | null>(args);
      const entries = reply === null ? [] : (Object.values(reply)[0] ?? []);
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < entries.length) {
          const [id] = entries[next++]!;
          await work();
          await client.sendCommand(['XACK', stream, 'g', id]);
          done++;
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, entries.length) }, lane));
    }
  } finally {
    destroyQuietly(reader);
  }
}

/**
 * What our pipeline retains while it works `n` entries: heapUsed after a full gc() at a quarter,
 * half and three quarters of the run, less the settled baseline before it, in MB. Flat means the
 * three are the same: nothing is kept per entry processed. (A peak of heapUsed without gc would
 * measure how lazily V8 collects, not what is held.)
 */
async function retainedHeap(
  client: Client,
  stream: string,
  n: number,
  batch: number,
  concurrency: number,
): Promise<number[]> {
  await fill(client, stream, n);
  gc?.();
  const base = process.memoryUsage().heapUsed;
  const marks = new Set([Math.floor(n / 4), Math.floor(n / 2), Math.floor((3 * n) / 4)]);
  const retained: number[] = [];
  await ours(client, stream, n, batch, concurrency, (done) => {
    if (!marks.has(done)) return;
    gc?.();
    retained.push((process.memoryUsage().heapUsed - base) / 2 ** 20);
  });
  await client.sendCommand(['DEL', stream]);
  return retained;
}

async function timed(
  client: Client,
  variant: 'ours' | 'loop',
  stream: string,
  n: number,
  batch: number,
  c: number,
): Promise<number> {
  await fill(client, stream, n);
  gc?.();
  const t0 = performance.now();
  if (variant === 'ours') await ours(client, stream, n, batch, c);
  else await loop(client, stream, n, batch, c);
  const ms = performance.now() - t0;
  await client.sendCommand(['DEL', stream]);
  return ms;
}

export async function runRedisBench(options: RedisBenchOptions = {}): Promise<RedisBenchResults> {
  const n = options.n ?? 20_000;
  const reps = options.reps ?? 3;
  const batch = options.batch ?? 50;
  const concurrency = options.concurrency ?? 16;
  const log = options.log ?? (() => {});
  const server = await startRedis();
  const client = await connectClient(server.url);
  try {
    // One untimed round of each, so that neither is timed while the JIT warms up.
    for (const variant of ['ours', 'loop'] as const)
      await timed(client, variant, `warm-${variant}`, 5000, batch, concurrency);
    const runs: RedisBenchResults['runs'] = [];
    for (let rep = 0; rep < reps; rep++) {
      for (const variant of ['ours', 'loop'] as const) {
        const ms = await timed(client, variant, `bench-${rep}-${variant}`, n, batch, concurrency);
        runs.push({ variant, ms });
        log(`${variant}: ${n} entries in ${ms.toFixed(0)} ms`);
      }
    }
    const oursMs = median(runs.filter((r) => r.variant === 'ours').map((r) => r.ms));
    const loopMs = median(runs.filter((r) => r.variant === 'loop').map((r) => r.ms));
    const small = await retainedHeap(client, 'heap-small', n, batch, concurrency);
    const large = await retainedHeap(client, 'heap-large', 4 * n, batch, concurrency);
    const growth = ((large[2] ?? 0) - (large[0] ?? 0)) * 2 ** 20;
    const mb = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' / ');
    log(`heap retained at 1/4, 1/2, 3/4: ${mb(small)} MB over ${n} entries, ${mb(large)} MB over ${4 * n}`);
    return {
      entries: n,
      batch,
      concurrency,
      oursMs,
      loopMs,
      ratio: oursMs / loopMs,
      runs,
      heap: { smallEntries: n, small, largeEntries: 4 * n, large, bytesPerEntry: growth / (2 * n) },
    };
  } finally {
    destroyQuietly(client);
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '20000' },
      reps: { type: 'string', default: '3' },
      batch: { type: 'string', default: '50' },
      c: { type: 'string', default: '16' },
      json: { type: 'boolean', default: false },
    },
  });
  if (gc === undefined)
    process.stderr.write('bench:redis: run with --expose-gc (npm run bench:redis) for the heap figures\n');
  const results = await runRedisBench({
    n: Number(values.n),
    reps: Number(values.reps),
    batch: Number(values.batch),
    concurrency: Number(values.c),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  if (values.json) console.log(JSON.stringify(results, null, 2));
  else {
    console.log(
      `fromRedisStream + ackAfter vs hand loop (batch ${results.batch}, concurrency ${results.concurrency}, ${results.entries} entries): ` +
        `${results.oursMs.toFixed(0)} ms vs ${results.loopMs.toFixed(0)} ms, ratio ${results.ratio.toFixed(2)} (target <= 1.5)`,
    );
    const { heap } = results;
    const mb = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' / ');
    console.log(
      `heap retained at 1/4, 1/2, 3/4 of the run: ${mb(heap.small)} MB (${heap.smallEntries} entries), ` +
        `${mb(heap.large)} MB (${heap.largeEntries} entries); growth ${heap.bytesPerEntry.toFixed(1)} bytes per entry (flat is ~0)`,
    );
  }
}
