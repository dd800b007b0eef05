import type { OperatorFunction } from 'rxjs';
import { resolvePoolConfig } from '../lib/pool/config.js';
import { workerPool } from '../lib/pool/engine.js';
import type { Work, WorkerPoolOptions } from '../lib/pool/types.js';

const NAME = 'orderedMerge';

/** Options of {@link orderedMerge}. */
export interface OrderedMergeOptions<T> extends WorkerPoolOptions<T> {
  /**
   * How many values may be between acceptance and emission: running, finished and waiting
   * behind a slower earlier value, or not yet started (an integer >= concurrency; default
   * 2 × concurrency, or 32 when concurrency is an Observable, whose values above the window
   * then run as if they were the window).
   */
  window?: number | undefined;
}

/**
 * Concurrent work whose results come out in input order, with a bounded reorder window.
 *
 * ![orderedMerge](../docs/diagrams/orderedMerge-window.svg)
 *
 * The same pool as {@link mergeWorkers} (the same engine, options and guarantees), except that
 * results are emitted in the order of the values that produced them: the head value's results
 * stream out as they come; a later value's results wait until every earlier value is done.
 * `window` bounds how many values may be in the pool at once, counting those whose results wait
 * behind a slow head: when it is full the operator takes no new values until the head is
 * emitted. Credit is released on emission, not when a worker finishes, so the reorder buffer
 * never grows past the window however slow the head is. With concurrency 1 it behaves like
 * `concatMap`.
 *
 * On an error (fail-fast): the error is delivered at once; earlier values still running are
 * aborted (reason `'sibling-failed'`), and results of later values that had already finished
 * are discarded, counted as `discarded` in the monitor. Nothing after the error is emitted.
 * With `errors: 'continue'` a failed value is skipped in the order and reported to `onError`.
 *
 * ## Warnings
 * Demand does not cross native RxJS operators: `fromPull(x).pipe(map(f), orderedMerge(...))`
 * treats the mapped source as a push source. Put `f` inside the worker instead. A Promise cannot
 * be cancelled by unsubscribing; pass `signal` to whatever the worker awaits. With concurrency
 * as an Observable, `window` also caps it: no more than `window` values are ever in the pool.
 *
 * Failure modes guarded against: ordering assumed but not preserved (FO-09), a slow worker
 * stalling everything (FO-05: others keep working within the window), and the reorder buffer
 * growing without bound behind a slow head.
 *
 * ## Example
 * ```ts
 * fromPull(pages).pipe(orderedMerge((page, { signal }) => render(page, signal), { concurrency: 4, window: 16 }));
 * ```
 *
 * @see {@link mergeWorkers}
 * @param work The worker; gets the value and a context with `index`, `attempt` and `signal`.
 * @param options Those of mergeWorkers, plus `window`.
 * @return A function that returns a pausable Observable of the results, in input order.
 */
export function orderedMerge<T, R>(work: Work<T, R>, options: OrderedMergeOptions<T>): OperatorFunction<T, R> {
  const config = resolvePoolConfig<T, R>(NAME, work, options, true);
  return (source) => workerPool(source, config);
}
