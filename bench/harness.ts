// A small benchmark harness on performance.now(): interleaved repetitions and medians. Timed runs
// start after a scavenge only (a full gc() makes V8 throw away optimised code, so the first run
// after one measures recompilation, not the code); bytes allocated are counted in the timed runs
// (v8.GCProfiler); peak heap is measured in runs of its own after a full gc(), sampled on a 5 ms
// interval and every 1024 items inside the hot loop. `--cold` adds timed runs after a full gc() as a separate column.
import v8 from 'node:v8';

const MB = 1024 * 1024;

/** The ordered floor that reads the same generator as ours (bench/report.ts picks it by this name). */
export const RING_OVER_SOURCE = 'the same ring over the generator ours reads';

/** Thrown from the hot loop when a run goes past its deadline; the harness stops that implementation. */
export class DeadlineExceeded extends Error {
  constructor(readonly done: number) {
    super(`deadline exceeded after ${done} items`);
  }
}

function usedHeap(): number {
  return v8.getHeapStatistics().used_heap_size;
}

const exposedGc = (globalThis as { gc?: (options?: { type?: 'minor' | 'major' }) => void }).gc;

/** Whether gc() was exposed (node --expose-gc); without it the heap figures include old garbage. */
export const gcExposed = typeof exposedGc === 'function';

/** A full collection (tens of ms with this process's heap): before heap runs and cold runs only. */
function collect(): void {
  exposedGc?.();
}

/**
 * A scavenge (young generation only, well under a millisecond): keeps one run's short-lived
 * garbage off the next without the full collection's side effect on compiled code.
 */
function scavenge(): void {
  exposedGc?.({ type: 'minor' });
}

/**
 * What each implementation hands its results to: counts them, sums them, hashes them in order
 * (so an ordered case can check the order), and samples the heap every 1024 results.
 */
export class Probe {
  count = 0;
  sum = 0;
  hash = 0;
  peak: number;

  /** `sampling`: read the heap every 1024 results (heap runs only; timed runs do not pay for it). */
  constructor(
    readonly base: number,
    private readonly deadline: number,
    private readonly sampling = false,
  ) {
    this.peak = base;
  }

  readonly take = (value: number): void => {
    this.count++;
    this.sum += value;
    this.hash = (Math.imul(this.hash, 31) + value) | 0;
    if ((this.count & 1023) === 0) {
      if (this.sampling) this.sampleHeap();
      if (performance.now() > this.deadline) throw new DeadlineExceeded(this.count);
    }
  };

  readonly sampleHeap = (): void => {
    const used = usedHeap();
    if (used > this.peak) this.peak = used;
  };
}

/** One implementation of a case: what it is, and how to run it once at size n. */
export interface Impl {
  /** The package (or 'hand-written'); our rows say 'rxjs-backpressure'. */
  readonly impl: string;
  /** How it is used, e.g. `fromPull + mergeWorkers`. */
  readonly variant: string;
  /** One of this library's rows. */
  readonly ours?: boolean;
  /** The row every other row's ratio is taken against (one per case). */
  readonly primary?: boolean;
  /** Sizes above this are not run, for the reason given (a budget choice, said in the output). */
  readonly maxN?: number;
  readonly maxNReason?: string;
  /** Why this implementation can beat ours, quoted in the docs when it does. */
  readonly whyFaster?: string;
  /** Why it falls far behind ours, quoted in the docs when it does (over 2× our time). */
  readonly whySlower?: string;
  /** Why its heap grows with N, quoted in the docs. */
  readonly whyHeap?: string;
  run(n: number, concurrency: number, probe: Probe): Promise<void> | void;
}

export interface CaseDef {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  /** Said under the case's title in the docs: e.g. which sizes are left out and why. */
  readonly note?: string;
  /** What ours does per value, said once before the peers that beat it. */
  readonly oursPerValue?: string;
  /** Each concurrency to run at (`null` where it does not apply) with its sizes. */
  readonly runs: readonly {
    readonly concurrency: number | null;
    readonly sizes: readonly number[];
    /**
     * Sizes above this run only ours' primary variant and the hand-written floor: the floor
     * targets need those two at 10^6, and the peers there would push the full run past its budget.
     */
    readonly peersUpTo?: number;
  }[];
  /** Check the order of results (the hash), not only count and sum. */
  readonly ordered: boolean;
  readonly impls: readonly Impl[];
}

export interface Row {
  case: string;
  impl: string;
  variant: string;
  n: number;
  concurrency: number | null;
  medianMs: number;
  /** Median CPU time (user + system) of the process during a run. */
  medianCpuMs: number;
  /** Median time of the runs after a full gc() (--cold only; null otherwise). */
  coldMedianMs: number | null;
  itemsPerSec: number;
  /** From the heap run (its own run, after a full gc()). */
  peakHeapMB: number;
  /** Bytes allocated per value, median over the timed runs. */
  bytesPerValue: number | null;
  /** The same, counted in the heap run (after a full gc(), so on code V8 may have to recompile). */
  heapRunBytesPerValue?: number | null;
  /** This row's median time divided by the primary (ours) row's, at the same n and concurrency. */
  ratioVsOurs: number | null;
  reps: number;
  samplesMs: number[];
  ours: boolean;
  primary: boolean;
}

export interface Skip {
  case: string;
  impl: string;
  variant: string;
  n: number;
  concurrency: number | null;
  reason: string;
}

export interface RunOptions {
  /** Only the smallest size of each run, and only ours' primary variant (--quick). */
  quick: boolean;
  reps: number;
  /** A single run longer than this is not attempted (projected) or is stopped (measured). */
  limitMs: number;
  /** The warm-up runs at min(n, warmN), until they have taken warmMs in all (WARM_RUNS_MAX at most). */
  warmN: number;
  warmMs: number;
  /**
   * After `reps` repetitions, more (up to REPS_MAX) while the cell's timed runs have taken less
   * than this in all, over every implementation.
   */
  sampleMs: number;
  /** Also time runs after a full gc(), reported apart (coldMedianMs). */
  cold: boolean;
  log: (line: string) => void;
}

interface Sample {
  ms: number;
  /** User + system CPU time of the process during the run: less disturbed by other processes. */
  cpuMs: number;
  /** Allocated during the run: the heap's growth plus what every collection in it freed. */
  allocatedBytes: number;
  count: number;
  sum: number;
  hash: number;
}

interface HeapSample extends Sample {
  peakMB: number;
}

/**
 * Counts the bytes allocated while it runs, from v8.GCProfiler's record of every collection:
 * used heap at the end - at the start + what each collection freed. Exact whatever garbage was
 * there before (what an old collection frees was in the start figure too), so timed runs need
 * no full gc() for it, and it counts the code as warm as the timed run is.
 */
class AllocationCounter {
  private readonly profiler = new v8.GCProfiler();
  private readonly start = usedHeap();

  constructor() {
    this.profiler.start();
  }

  stop(): number {
    const profile = this.profiler.stop() as { statistics: GcStatistic[] } | undefined;
    let freed = 0;
    for (const s of profile?.statistics ?? []) {
      freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
    }
    return usedHeap() - this.start + freed;
  }
}

/** A timed run: a scavenge before it (a full gc() when cold), no heap sampling in it. */
async function measure(impl: Impl, n: number, c: number, deadlineMs: number, cold = false): Promise<Sample> {
  if (cold) collect();
  else scavenge();
  const deadline = impl.primary === true ? Infinity : performance.now() + deadlineMs;
  const probe = new Probe(0, deadline);
  const allocations = new AllocationCounter();
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let allocatedBytes = NaN;
  try {
    await impl.run(n, c, probe);
  } finally {
    allocatedBytes = allocations.stop();
  }
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return {
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    allocatedBytes,
    count: probe.count,
    sum: probe.sum,
    hash: probe.hash,
  };
}

/** A heap run, apart from the timed ones: a full gc() for the baseline, the heap sampled while it goes. */
async function measureHeap(impl: Impl, n: number, c: number, deadlineMs: number): Promise<HeapSample> {
  collect();
  const deadline = impl.primary === true ? Infinity : performance.now() + deadlineMs;
  const probe = new Probe(usedHeap(), deadline, true);
  const sampler = setInterval(probe.sampleHeap, 5);
  const allocations = new AllocationCounter();
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let allocatedBytes = NaN;
  try {
    await impl.run(n, c, probe);
  } finally {
    clearInterval(sampler);
    allocatedBytes = allocations.stop();
  }
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  probe.sampleHeap();
  return {
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakMB: (probe.peak - probe.base) / MB,
    allocatedBytes,
    count: probe.count,
    sum: probe.sum,
    hash: probe.hash,
  };
}

/** One collection as v8.GCProfiler reports it (only the fields used here). */
interface GcStatistic {
  beforeGC: { heapStatistics: { usedHeapSize: number } };
  afterGC: { heapStatistics: { usedHeapSize: number } };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The time a run at n is expected to take, from the runs at smaller sizes: the last median scaled
 * by (n / lastN)^e, with e the growth seen between the last two sizes, clamped to [1, 2].
 */
function project(history: readonly { n: number; ms: number }[], n: number): number | undefined {
  const last = history.at(-1);
  if (last === undefined) return undefined;
  let exponent = 1;
  const prev = history.at(-2);
  if (prev !== undefined && prev.ms > 0) {
    exponent = Math.log(last.ms / prev.ms) / Math.log(last.n / prev.n);
    exponent = Math.min(2, Math.max(1, exponent));
  }
  return last.ms * (n / last.n) ** exponent;
}

export const formatN = (n: number): string => {
  const exp = Math.log10(n);
  return Number.isInteger(exp) ? `10^${exp}` : String(n);
};

const check = (def: CaseDef, a: Sample, ref: Sample): string | undefined => {
  if (a.count !== ref.count || a.sum !== ref.sum) {
    return `wrong result: ${a.count} results summing to ${a.sum}, expected ${ref.count} summing to ${ref.sum}`;
  }
  if (def.ordered && a.hash !== ref.hash) return 'wrong result: results out of input order';
  return undefined;
};

const WARM_RUNS_MAX = 20;
/** The most timed repetitions a cell gets however short its runs (RunOptions.sampleMs). */
const REPS_MAX = 50;

/**
 * Untimed runs until V8 has compiled what they run: at least one, then more until they have taken
 * `warmMs` in all. One short run at min(N, 10^4) is a millisecond or two for the fast cases, and
 * it follows the previous cell's heap runs, whose full gc() throws optimised code away; in the
 * run of 2026-12-03 the sync-mergeWorkers and orderedMerge cells at 10^5 read 30-40% more per
 * value than the same cells at 10^6. Returns the first run's sample,
 * for the result check.
 */
async function warmUp(impl: Impl, n: number, c: number, opts: RunOptions): Promise<Sample> {
  const first = await measure(impl, n, c, opts.limitMs);
  let spent = first.ms;
  for (let run = 1; run < WARM_RUNS_MAX && spent < opts.warmMs; run++) {
    spent += (await measure(impl, n, c, opts.limitMs)).ms;
  }
  return first;
}

/**
 * Runs one case at every size and concurrency. Each size: warm-up runs of every
 * implementation (`warmUp`), then `reps` repetitions, each running every implementation once, in an order
 * rotated by one each repetition; the hand-written floor's result is the reference every other
 * implementation's result is checked against.
 */
export async function runCase(def: CaseDef, opts: RunOptions): Promise<{ rows: Row[]; skips: Skip[] }> {
  const rows: Row[] = [];
  const skips: Skip[] = [];
  // An implementation that did not finish (or gave a wrong result) at some size is not run at that
  // size or above again, at any concurrency: its slowness there does not depend on concurrency.
  const failedAt = new Map<Impl, { n: number; concurrency: number | null }>();
  for (const { concurrency, sizes: allSizes, peersUpTo } of def.runs) {
    const sizes = opts.quick ? allSizes.slice(0, 1) : allSizes;
    const c = concurrency ?? 1;
    const history = new Map<Impl, { n: number; ms: number }[]>();
    const stopped = new Set<Impl>();
    const stop = (impl: Impl, n: number): void => {
      stopped.add(impl);
      if (!failedAt.has(impl)) failedAt.set(impl, { n, concurrency });
    };
    const label = `${def.id}${concurrency === null ? '' : ` c=${concurrency}`}`;
    for (const n of sizes) {
      const skip = (impl: Impl, reason: string): void => {
        skips.push({ case: def.id, impl: impl.impl, variant: impl.variant, n, concurrency, reason });
        opts.log(`  skip ${impl.impl} (${impl.variant}) at N=${formatN(n)}: ${reason}`);
      };
      opts.log(`${label} N=${formatN(n)}`);
      const active: Impl[] = [];
      for (const impl of def.impls) {
        if (opts.quick && impl.ours === true && impl.primary !== true) continue;
        const projected = project(history.get(impl) ?? [], n);
        const failed = failedAt.get(impl);
        if (impl.primary === true)
          active.push(impl); // ours is measured at every size, however long
        else if (stopped.has(impl)) skip(impl, 'stopped at a smaller N');
        else if (failed !== undefined && n >= failed.n) {
          skip(
            impl,
            `stopped at N=${formatN(failed.n)}${failed.concurrency === null ? '' : `, concurrency ${failed.concurrency}`}`,
          );
        } else if (impl.maxN !== undefined && n > impl.maxN) skip(impl, impl.maxNReason ?? 'not run at this size');
        else if (peersUpTo !== undefined && n > peersUpTo && impl.impl !== 'hand-written') {
          skip(
            impl,
            'at this size only ours and the hand-written floor run (for the floor targets), to keep the run short',
          );
        } else if (projected !== undefined && projected > opts.limitMs) {
          skip(impl, `projected ${(projected / 1000).toFixed(0)} s per run, over the ${opts.limitMs / 1000} s limit`);
        } else active.push(impl);
      }
      const floor = active.find((impl) => impl.impl === 'hand-written');
      if (floor === undefined) throw new Error(`${def.id}: the hand-written floor must run at every size`);

      let reference: Sample | undefined;
      const bad = (impl: Impl, sample: Sample): boolean => {
        const problem = reference === undefined ? undefined : check(def, sample, reference);
        if (problem === undefined) return false;
        skip(impl, problem);
        stop(impl, n);
        return true;
      };
      const warmN = Math.min(n, opts.warmN);
      reference = await warmUp(floor, warmN, c, opts);
      for (const impl of active) {
        if (impl === floor) continue;
        try {
          bad(impl, await warmUp(impl, warmN, c, opts));
        } catch (err) {
          if (!(err instanceof DeadlineExceeded)) throw err;
          skip(impl, `warm-up at N=${formatN(warmN)} did not finish within ${opts.limitMs / 1000} s`);
          stop(impl, warmN);
        }
      }
      reference = undefined;

      const attempt = async <S>(impl: Impl, run: () => Promise<S>): Promise<S | undefined> => {
        if (stopped.has(impl)) return undefined;
        try {
          return await run();
        } catch (err) {
          if (!(err instanceof DeadlineExceeded)) throw err;
          skip(impl, `stopped: a run passed ${opts.limitMs / 1000} s with ${err.done} of ${n} items done`);
          stop(impl, n);
          return undefined;
        }
      };
      // Each timed rep runs every implementation once, in an order rotated by one each rep.
      const timed = async (cold: boolean): Promise<Map<Impl, Sample[]>> => {
        const samples = new Map<Impl, Sample[]>();
        let spent = 0;
        // Short runs get more repetitions (warm ones only: a cold one costs a full gc() each), so
        // that a median of runs of 1-3 ms is not the luck of five of them.
        const more = (rep: number): boolean => !cold && rep < REPS_MAX && spent < opts.sampleMs;
        for (let rep = 0; rep < opts.reps || more(rep); rep++) {
          const running = active.filter((impl) => !stopped.has(impl));
          for (let i = 0; i < running.length; i++) {
            const impl = running[(i + rep) % running.length]!;
            const sample = await attempt(impl, () => measure(impl, n, c, opts.limitMs, cold));
            if (sample === undefined) continue;
            spent += sample.ms;
            if (impl === floor && reference === undefined) reference = sample;
            if (impl !== floor && reference !== undefined && bad(impl, sample)) continue;
            samples.set(impl, [...(samples.get(impl) ?? []), sample]);
          }
        }
        return samples;
      };
      const samples = await timed(false);
      const coldSamples = opts.cold ? await timed(true) : undefined;
      // Last: the full gc() of a heap run would leave the next timed run recompiling.
      const heaps = new Map<Impl, HeapSample>();
      for (const impl of active) {
        const sample = await attempt(impl, () => measureHeap(impl, n, c, opts.limitMs));
        if (sample !== undefined && (impl === floor || !bad(impl, sample))) heaps.set(impl, sample);
      }

      const cellRows: Row[] = [];
      for (const impl of active) {
        const list = samples.get(impl);
        if (stopped.has(impl) || list === undefined) continue;
        const ms = median(list.map((s) => s.ms));
        const cold = coldSamples?.get(impl);
        const heap = heaps.get(impl);
        cellRows.push({
          case: def.id,
          impl: impl.impl,
          variant: impl.variant,
          n,
          concurrency,
          medianMs: round(ms, 3),
          medianCpuMs: round(median(list.map((s) => s.cpuMs)), 3),
          coldMedianMs: cold === undefined ? null : round(median(cold.map((s) => s.ms)), 3),
          itemsPerSec: Math.round(n / (ms / 1000)),
          peakHeapMB: heap === undefined ? NaN : round(heap.peakMB, 2),
          // Counted in the timed runs, on code as warm as theirs (the heap run follows a full gc()).
          bytesPerValue: Math.round(median(list.map((s) => s.allocatedBytes)) / n),
          heapRunBytesPerValue: heap === undefined ? null : Math.round(heap.allocatedBytes / n),
          ratioVsOurs: null,
          reps: list.length,
          samplesMs: list.map((s) => round(s.ms, 3)),
          ours: impl.ours === true,
          primary: impl.primary === true,
        });
        const h = history.get(impl) ?? [];
        h.push({ n, ms });
        history.set(impl, h);
      }
      const primary = cellRows.find((r) => r.primary);
      for (const row of cellRows) {
        if (primary !== undefined && !row.primary) row.ratioVsOurs = round(row.medianMs / primary.medianMs, 3);
        const ratio = row.ratioVsOurs === null ? '' : `  ×${row.ratioVsOurs.toFixed(2)} of ours`;
        const cold = row.coldMedianMs === null ? '' : ` (cold ${row.coldMedianMs.toFixed(1)} ms)`;
        opts.log(
          `  ${`${row.impl} (${row.variant})`.padEnd(58)} ${row.medianMs.toFixed(1).padStart(9)} ms ` +
            `${row.peakHeapMB.toFixed(1).padStart(7)} MB ${String(row.bytesPerValue ?? '-').padStart(6)} B/value (heap run ${row.heapRunBytesPerValue ?? '-'})${ratio}${cold}`,
        );
      }
      rows.push(...cellRows);
    }
  }
  return { rows, skips };
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
