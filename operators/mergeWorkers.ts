import type { OperatorFunction } from 'rxjs';
import { resolvePoolConfig } from '../lib/pool/config.js';
import { workerPool } from '../lib/pool/engine.js';
import type { Work, WorkerPoolOptions } from '../lib/pool/types.js';

const NAME = 'mergeWorkers';

/** Options of {@link mergeWorkers}. */
export type MergeWorkersOptions<T> = WorkerPoolOptions<T>;

/**
 * A pool of `concurrency` workers that pull the next value only when one of them is free.
 * Results come out as they finish (see {@link orderedMerge} for input order).
 *
 * ![mergeWorkers](../docs/diagrams/mergeWorkers-pull.svg)
 *
 * Each value is handed to `work(value, { index, attempt, signal })`, which returns an
 * ObservableInput (an Observable, a Promise, an array, an async iterable). A slot is held from
 * the moment the work starts until its inner completes, fails for good or is cancelled; only
 * then is the next value taken.
 *
 * From a pausable source (fromPull, channel, boundedBuffer, another library stage) the pool
 * requests exactly its free slots, so memory is bounded by `concurrency` however fast the source
 * is. From a source that cannot be paused, it keeps up to `capacity` values (default 1024) in a
 * bounded queue and applies `overflow` when it is full (default `'error'`: an OverflowError
 * rather than a silent drop; choose `'drop-oldest'` or `'drop-newest'` to shed load, counted
 * in the monitor).
 *
 * The output completes after the source has completed and every accepted value has been worked.
 * Errors are fail-fast by default: the first failure (after retries) is delivered, every other
 * running worker's signal is aborted with a {@link CancelledError} whose `reason` is
 * `'sibling-failed'`, and its inner is unsubscribed. With `errors: 'continue'` a failed value
 * goes to `onError`, is counted, and frees its slot. Unsubscribing (or a `take(n)` downstream)
 * aborts every running worker with reason `'unsubscribed'`, and no work starts afterwards.
 *
 * With `key`, values of one key run one at a time and in input order, and different keys in
 * parallel; a hot key holds one worker at a time, and values of other keys behind it start first.
 * With `timeout`, an attempt that runs longer has its signal aborted with a {@link TimeoutError}
 * and fails with it, which `retry` sees like any other failure.
 *
 * A downstream library stage that stops asking for results stops the pool from taking more
 * values (backpressure crosses the pool); an ordinary subscriber takes results as they come.
 *
 * ## Warnings
 * Demand does not cross native RxJS operators: `fromPull(x).pipe(map(f), mergeWorkers(...))`
 * treats the mapped source as a push source. Put `f` inside the worker instead.
 * A Promise cannot be cancelled by unsubscribing; pass `signal` to whatever the worker awaits.
 *
 * Failure modes guarded against: unbounded queues (BP-01, BP-14, ML-01), spawn-per-request
 * (BP-03, FO-06), a slot freed before the work ends (BP-12, FO-02), first error lost (FO-01),
 * one bad value killing the pool when that is not wanted (WP-06), cancellation that doesn't
 * (WP-07, FO-10), work not spread over workers (FO-03, ML-07), a limiter with no floor (BP-18).
 *
 * ## Example
 * ```ts
 * fromPull(ids).pipe(
 *   mergeWorkers((id, { signal }) => fetch(`/api/items/${id}`, { signal }).then((r) => r.json()), {
 *     concurrency: 4,
 *     retry: { count: 3, delay: 200 },
 *   }),
 * );
 * ```
 *
 * @see {@link orderedMerge}, {@link boundedBuffer}, {@link workerMonitor}
 * @param work The worker; gets the value and a context with `index`, `attempt` and `signal`.
 * @param options Concurrency, error policy, retry, scheduler, push-source queue, monitor.
 * @return A function that returns a pausable Observable of the workers' results.
 */
export function mergeWorkers<T, R>(work: Work<T, R>, options: MergeWorkersOptions<T>): OperatorFunction<T, R> {
  const config = resolvePoolConfig<T, R>(NAME, work, options, false);
  return (source) => workerPool(source, config);
}
