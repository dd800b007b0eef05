// npm run bench:broadcast [-- --json] [-- --quick] [-- --reps N] [-- --sizes 10000,100000]
// Two consumers of one source, one fast (sums what it gets) and one slow (async work, one value at
// a time): broadcast() against share() (RxJS's connectable, both subscribed before it connects).
// share() asks for everything, so the slow consumer's concatMap queues the whole input and the
// heap grows with N; broadcast() reads the source at the slow consumer's pace and stays flat.
//
// Standalone on purpose: it imports the work tree's index.ts (no build), and exports
// `broadcastImpls(lib)` in the shape of bench/harness.ts's Impl, so that the suite (bench/run.ts)
// can run it as one more case, and `runBroadcastBench()`, which returns the rows it prints.
import v8 from 'node:v8';
import { concatMap, connectable, range, Subject } from 'rxjs';
import type { Impl, Probe } from './harness.js';

/** What this file needs of the library: the two stages, from index.ts or from a built copy. */
export interface BroadcastLibrary {
  readonly fromPull: typeof import('../index.js').fromPull;
  readonly broadcast: typeof import('../index.js').broadcast;
  readonly mergeWorkers: typeof import('../index.js').mergeWorkers;
}

/** share() is not run above this: its time grows quadratically (see maxNReason). */
const SHARE_MAX_N = 300_000;

/** The slow consumer's work: one Promise per value (a microtask, as a fast async call would be). */
const slowWork = (v: number): Promise<number> => Promise.resolve(v);

function* numbers(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/**
 * Implementations of the case "two consumers of one source" in bench/harness.ts's shape. The
 * probe takes the slow consumer's results (in order); the fast consumer's sum is checked against
 * the same numbers, so both consumers must see every value.
 */
export function broadcastImpls(lib: BroadcastLibrary): Impl[] {
  return [
    {
      impl: 'rxjs-backpressure',
      variant: 'fromPull → broadcast({ connectAt: 2 }) → plain sum + mergeWorkers(work, 1)',
      ours: true,
      primary: true,
      run: (n, _c, probe) => runOurs(lib, n, probe),
    },
    {
      impl: 'rxjs',
      variant: 'range → share() (connectable) → plain sum + concatMap(work)',
      maxN: SHARE_MAX_N,
      maxNReason:
        'concatMap takes each value off the front of its array (Array.prototype.shift), so its run is ' +
        'quadratic in the values queued: 7 to 18 s at 300,000 and 285 s at 10^6 on the shared 2-core machine used',
      whyHeap:
        'share() asks its source for everything: the slow consumer keeps every value it has not ' +
        'worked yet in concatMap’s queue, so the whole input is held at once',
      run: (n, _c, probe) => runShare(n, probe),
    },
  ];
}

function expectSum(n: number, sum: number): void {
  const expected = (n * (n - 1)) / 2;
  if (sum !== expected) throw new Error(`the fast consumer saw a sum of ${sum}, expected ${expected}`);
}

function runOurs(lib: BroadcastLibrary, n: number, probe: Probe): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const shared = lib.fromPull(numbers(n)).pipe(lib.broadcast<number>({ connectAt: 2 }));
    let fastSum = 0;
    let done = 0;
    const end = (): void => {
      if (++done < 2) return;
      try {
        expectSum(n, fastSum);
        resolve();
      } catch (err) {
        reject(err);
      }
    };
    shared.subscribe({ next: (v) => (fastSum += v), error: reject, complete: end });
    shared
      .pipe(lib.mergeWorkers(slowWork, { concurrency: 1 }))
      .subscribe({ next: probe.take, error: reject, complete: end });
  });
}

function runShare(n: number, probe: Probe): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const shared = connectable(range(0, n), { connector: () => new Subject<number>(), resetOnDisconnect: false });
    let fastSum = 0;
    let done = 0;
    const end = (): void => {
      if (++done < 2) return;
      try {
        expectSum(n, fastSum);
        resolve();
      } catch (err) {
        reject(err);
      }
    };
    shared.subscribe({ next: (v) => (fastSum += v), error: reject, complete: end });
    shared.pipe(concatMap(slowWork)).subscribe({ next: probe.take, error: reject, complete: end });
    shared.connect();
  });
}

// ---- the standalone runner -------------------------------------------------------------------------

/** One measured row: the median of `reps` runs. */
export interface BroadcastRow {
  readonly impl: string;
  readonly variant: string;
  readonly n: number;
  readonly medianMs: number;
  /** Peak used heap during a timed run, garbage included, above the heap before it (median). */
  readonly peakHeapMB: number;
  /**
   * The most heap still live (after a full collection) at 8 points of a separate run, above the
   * heap before it: what the pipeline retains. Flat in N for ours. NaN without --expose-gc.
   */
  readonly liveHeapMB: number;
  readonly reps: number;
}

export interface BroadcastBenchOptions {
  readonly sizes?: readonly number[];
  readonly reps?: number;
  readonly library?: BroadcastLibrary;
  readonly log?: (line: string) => void;
}

const MB = 1024 * 1024;
const usedHeap = (): number => v8.getHeapStatistics().used_heap_size;
const gc = (globalThis as { gc?: () => void }).gc;

/**
 * A probe as bench/harness.ts's: counts and hashes results, samples the heap every 1024. With
 * `liveEvery`, it also collects every `liveEvery` results and records the live heap (slow: a
 * full collection each time, so only in the heap run, never in a timed one).
 */
class HeapProbe {
  count = 0;
  sum = 0;
  hash = 0;
  peak: number;
  live: number;
  constructor(
    readonly base: number,
    private readonly liveEvery = 0,
  ) {
    this.peak = base;
    this.live = base;
  }
  readonly take = (value: number): void => {
    this.count++;
    this.sum += value;
    this.hash = (Math.imul(this.hash, 31) + value) | 0;
    if ((this.count & 1023) === 0) this.sampleHeap();
    if (this.liveEvery > 0 && this.count % this.liveEvery === 0 && gc !== undefined) {
      gc();
      this.live = Math.max(this.live, usedHeap());
    }
  };
  readonly sampleHeap = (): void => {
    const used = usedHeap();
    if (used > this.peak) this.peak = used;
  };
}

async function measureOnce(
  impl: Impl,
  n: number,
  liveEvery = 0,
): Promise<{ ms: number; peakMB: number; liveMB: number; probe: HeapProbe }> {
  gc?.();
  const probe = new HeapProbe(usedHeap(), liveEvery);
  const sampler = setInterval(probe.sampleHeap, 5);
  const start = performance.now();
  try {
    await impl.run(n, 1, probe as unknown as Probe);
  } finally {
    clearInterval(sampler);
  }
  const ms = performance.now() - start;
  probe.sampleHeap();
  const liveMB = gc === undefined ? NaN : (probe.live - probe.base) / MB;
  return { ms, peakMB: (probe.peak - probe.base) / MB, liveMB, probe };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function check(impl: Impl, n: number, probe: HeapProbe): void {
  if (probe.count !== n || probe.sum !== (n * (n - 1)) / 2) {
    throw new Error(`${impl.impl}: the slow consumer got ${probe.count} of ${n} values`);
  }
}

/**
 * Runs both implementations at each size (interleaved repetitions, medians) and returns the rows.
 * Checks that every run delivered every value to both consumers, in order to the slow one.
 */
export async function runBroadcastBench(options: BroadcastBenchOptions = {}): Promise<BroadcastRow[]> {
  const library = options.library ?? (await import('../index.js'));
  const sizes = options.sizes ?? [10_000, 100_000, 300_000, 1_000_000];
  const reps = options.reps ?? 3;
  const log = options.log ?? ((): void => undefined);
  const impls = broadcastImpls(library);
  const rows: BroadcastRow[] = [];
  for (const impl of impls) await measureOnce(impl, Math.min(1_000, sizes[0] ?? 1_000)); // warm-up
  for (const n of sizes) {
    const running = impls.filter((impl) => {
      if (impl.maxN === undefined || n <= impl.maxN) return true;
      log(`${impl.impl} n=${n}: not run (${impl.maxNReason ?? 'above its maxN'})`);
      return false;
    });
    const samples = running.map(() => ({ ms: [] as number[], heap: [] as number[], live: NaN }));
    for (let r = 0; r < reps; r++) {
      for (const [i, impl] of running.entries()) {
        const { ms, peakMB, probe } = await measureOnce(impl, n);
        check(impl, n, probe);
        samples[i]!.ms.push(ms);
        samples[i]!.heap.push(peakMB);
      }
    }
    for (const [i, impl] of running.entries()) {
      const { liveMB, probe } = await measureOnce(impl, n, Math.max(1, Math.floor(n / 8)));
      check(impl, n, probe);
      samples[i]!.live = liveMB;
    }
    for (const [i, impl] of running.entries()) {
      const row: BroadcastRow = {
        impl: impl.impl,
        variant: impl.variant,
        n,
        medianMs: median(samples[i]!.ms),
        peakHeapMB: median(samples[i]!.heap),
        liveHeapMB: samples[i]!.live,
        reps,
      };
      rows.push(row);
      log(
        `${row.impl.padEnd(18)} n=${String(n).padStart(8)}  ${row.medianMs.toFixed(1).padStart(8)} ms  ` +
          `peak ${row.peakHeapMB.toFixed(2).padStart(6)} MB  live ${row.liveHeapMB.toFixed(2).padStart(6)} MB`,
      );
    }
  }
  return rows;
}

/** The table printed by `npm run bench:broadcast`. */
export function renderBroadcastRows(rows: readonly BroadcastRow[]): string {
  const lines = [
    '| implementation | variant | values | median time | peak heap | live heap |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.impl} | ${r.variant} | ${r.n.toLocaleString('en-US')} | ${r.medianMs.toFixed(0)} ms | ${r.peakHeapMB.toFixed(1)} MB | ${r.liveHeapMB.toFixed(2)} MB |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const quick = args.includes('--quick');
  const sizesArg = value('--sizes');
  const sizes = sizesArg !== undefined ? sizesArg.split(',').map(Number) : quick ? [10_000, 50_000] : undefined;
  const reps = Number(value('--reps') ?? (quick ? 1 : 3));
  if (gc === undefined)
    process.stderr.write('warning: gc() is not exposed (node --expose-gc); heap figures include garbage\n');
  const rows = await runBroadcastBench({ sizes, reps, log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(
    args.includes('--json') ? `${JSON.stringify(rows, null, 2)}\n` : `${renderBroadcastRows(rows)}\n`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) await main();
