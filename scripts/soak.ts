/**
 * Soak test (`npm run soak`; not part of `npm test`): pushes SOAK_N values (default 10,000,000)
 * through a full pipeline,
 *
 *   fromPull -> boundedBuffer('block') -> mergeWorkers(slow async workers, concurrency 64) -> batchFresh
 *
 * and prints the heap (after a forced gc) every second. After a warm-up it fails (exit 1) when
 * the heap has grown by more than SOAK_MAX_GROWTH_MB (default 8) over the baseline taken at the
 * end of the warm-up; it also fails if a value is lost or duplicated, or a bound is exceeded.
 *
 * Run with `node --expose-gc --import tsx scripts/soak.ts` (what `npm run soak` does).
 * SOAK_N shortens it (e.g. SOAK_N=1000000); SOAK_WARMUP is the fraction of N treated as warm-up
 * (default 0.1).
 */
import { fromPull, boundedBuffer, mergeWorkers, batchFresh } from '../index.js';

const MB = 1024 * 1024;
const N = Number(process.env.SOAK_N ?? 10_000_000);
const LIMIT_MB = Number(process.env.SOAK_MAX_GROWTH_MB ?? 8);
const WARMUP = Number(process.env.SOAK_WARMUP ?? 0.1);
const CONCURRENCY = 64;
const CAPACITY = 256;
const BATCH = 100;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('soak: run with node --expose-gc (npm run soak does)');
  process.exit(2);
}
if (!Number.isInteger(N) || N < 1) {
  console.error(`soak: SOAK_N must be a positive integer, got ${String(process.env.SOAK_N)}`);
  process.exit(2);
}

function heap(): number {
  gc!();
  return process.memoryUsage().heapUsed;
}

function* values(): Generator<number> {
  for (let i = 0; i < N; i++) yield i;
}

let active = 0;
let maxActive = 0;

/** A slow asynchronous worker: a resolved promise, and every 64th value a setImmediate turn. */
async function work(value: number): Promise<number> {
  active++;
  if (active > maxActive) maxActive = active;
  await Promise.resolve();
  if (value % 64 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  active--;
  return value;
}

const started = Date.now();
const startHeap = heap();
let received = 0;
let sum = 0;
let batches = 0;
let oversized = 0;
let baseline: number | undefined;
let baselineAt = 0;
let maxHeap = startHeap;
let maxAfterWarmup = 0;
let lastHeap = startHeap;

const fmt = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;

function sample(): void {
  const h = heap();
  lastHeap = h;
  maxHeap = Math.max(maxHeap, h);
  const seconds = (Date.now() - started) / 1000;
  if (baseline === undefined && received >= N * WARMUP) {
    baseline = h;
    baselineAt = seconds;
  } else if (baseline !== undefined) {
    maxAfterWarmup = Math.max(maxAfterWarmup, h - baseline);
  }
  const rate = received / Math.max(seconds, 0.001);
  console.log(
    `${seconds.toFixed(0).padStart(4)} s  ${received.toLocaleString('en-US').padStart(12)} values  ` +
      `${(rate / 1000).toFixed(0).padStart(5)}k/s  heap ${fmt(h)}` +
      (baseline === undefined
        ? '  (warm-up)'
        : `  (${h >= baseline ? '+' : ''}${((h - baseline) / MB).toFixed(2)} MB)`),
  );
}

const timer = setInterval(sample, 1000);

fromPull(values())
  .pipe(
    boundedBuffer<number>({ capacity: CAPACITY, overflow: 'block' }),
    mergeWorkers(work, { concurrency: CONCURRENCY }),
    batchFresh<number>({ size: BATCH, maxWait: 50 }),
  )
  .subscribe({
    next(batch) {
      batches++;
      if (batch.length > BATCH) oversized++;
      received += batch.length;
      for (const v of batch) sum += v;
    },
    error(err: unknown) {
      clearInterval(timer);
      console.error('soak: the pipeline failed:', err);
      process.exit(1);
    },
    complete() {
      clearInterval(timer);
      sample();
      finish();
    },
  });

function finish(): void {
  const seconds = (Date.now() - started) / 1000;
  const endHeap = heap();
  const expectedSum = (N * (N - 1)) / 2;
  const failures: string[] = [];
  if (received !== N) failures.push(`received ${received} values, expected ${N}`);
  if (sum !== expectedSum) failures.push(`values lost or duplicated (sum ${sum}, expected ${expectedSum})`);
  if (oversized > 0) failures.push(`${oversized} batches larger than ${BATCH}`);
  if (maxActive > CONCURRENCY) failures.push(`${maxActive} workers ran at once, concurrency ${CONCURRENCY}`);
  if (baseline === undefined) failures.push('the run ended before the warm-up did; raise SOAK_N');
  const growth = baseline === undefined ? NaN : lastHeap - baseline;
  if (baseline !== undefined && maxAfterWarmup > LIMIT_MB * MB) {
    failures.push(`heap grew by ${(maxAfterWarmup / MB).toFixed(2)} MB after warm-up (limit ${LIMIT_MB} MB)`);
  }
  console.log('');
  console.log(
    `soak: ${N.toLocaleString('en-US')} values in ${seconds.toFixed(1)} s (${(N / seconds / 1000).toFixed(0)}k values/s), ${batches.toLocaleString('en-US')} batches, at most ${maxActive} workers at once`,
  );
  console.log(
    `soak: heap start ${fmt(startHeap)}, baseline ${baseline === undefined ? 'n/a' : fmt(baseline)} (at ${baselineAt.toFixed(0)} s), ` +
      `end of run ${fmt(lastHeap)}, after completion ${fmt(endHeap)}, max ${fmt(maxHeap)}`,
  );
  console.log(
    `soak: growth after warm-up: end ${(growth / MB).toFixed(2)} MB, max ${(maxAfterWarmup / MB).toFixed(2)} MB (limit ${LIMIT_MB} MB)`,
  );
  if (failures.length > 0) {
    for (const f of failures) console.error(`soak: FAIL: ${f}`);
    process.exit(1);
  }
  console.log('soak: OK');
}
