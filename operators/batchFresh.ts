import { asyncScheduler, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { optionRangeError, optionTypeError } from '../lib/core/errors.js';
import type { Monitor } from '../lib/core/monitor.js';
import {
  optionalFunction,
  optionalMonitor,
  optionalPositiveInteger,
  optionalScheduler,
  optionsObject,
  pushOverflowPolicy,
  positiveInteger,
  timerDelay,
} from '../lib/core/validate.js';
import { batcher, type BatchConfig, type BatchStats } from '../lib/queue/batcher.js';

export { batchMonitor, type BatchStats } from '../lib/queue/batcher.js';

const NAME = 'batchFresh';

/** Options of {@link batchFresh}. Give `size`, `maxWait`, `maxWeight`, or any of them together. */
export interface BatchFreshOptions<T = unknown> {
  /** Closes a batch when it holds this many values; an integer >= 1. */
  size?: number | undefined;
  /**
   * Closes a batch this many milliseconds after its first value arrived; a finite number > 0.
   * The timer runs only while a batch has values, so an idle source produces no empty batches.
   */
  maxWait?: number | undefined;
  /**
   * The weight of one value (its size in bytes, say): a finite number >= 0. With `maxWeight`, a
   * batch closes before the value that would take it past `maxWeight`.
   */
  weight?: ((value: T) => number) | undefined;
  /** The most a batch may weigh, by `weight`; a finite number > 0. Goes with `weight`. */
  maxWeight?: number | undefined;
  /**
   * A single value heavier than `maxWeight`: `'alone'` (default) emits it in a batch of its own;
   * `'error'` fails the stream with a RangeError naming it.
   */
  oversized?: 'alone' | 'error' | undefined;
  /** Times `maxWait` (default `asyncScheduler`); a TestScheduler gives virtual time. */
  scheduler?: SchedulerLike | undefined;
  /**
   * What a source error does with the batches held: `'discard'` (default) errors at once and
   * counts them as discarded; `'flush'` delivers them (against demand) and then the error.
   */
  onError?: 'flush' | 'discard' | undefined;
  /**
   * `Object.freeze` each batch before emitting it, so a consumer that mutates one throws a
   * TypeError (in strict-mode code, i.e. every ES module) instead of corrupting shared data.
   * Meant for development and tests; default `false`.
   */
  freeze?: boolean | undefined;
  /**
   * How many complete batches may wait for a pulling consumer (an integer >= 1, default 1).
   * A pausable source is asked for no more values while that many wait; for a push source it is
   * the bound at which `overflow` applies.
   */
  maxPending?: number | undefined;
  /**
   * For a source that cannot be paused only: what happens when a batch closes while `maxPending`
   * batches already wait (default `'error'`: an OverflowError rather than a silent drop).
   */
  overflow?: 'drop-newest' | 'drop-oldest' | 'error' | undefined;
  /** Receives live counters; create one with {@link batchMonitor}. */
  monitor?: Monitor<BatchStats> | undefined;
}

/**
 * Collects values into batches by count, by time, or both, emitting each batch as a freshly
 * allocated array that the operator never touches again, and only against downstream demand.
 *
 * ![batchFresh](../docs/diagrams/batchFresh-size-and-time.svg)
 *
 * A batch closes when it holds `size` values, when the next value would take it past `maxWeight`
 * (by `weight`; a value heavier than `maxWeight` goes alone in its batch, or fails the stream
 * with `oversized: 'error'`), or `maxWait` ms after its first value arrived, whichever comes
 * first. The timer starts with a batch's first value, so an idle source never
 * produces an empty batch (RxJS 7.8's `bufferTime` emits `[]` for every idle period and at
 * completion). When the source
 * completes, the partial batch is emitted, then completion. When the source errors, the batches
 * held are discarded and counted (`onError: 'discard'`, the default, as RxJS's buffer operators
 * do; it also delivers the error at once, whereas a flush would hold it behind a consumer's
 * demand), or delivered before the error (`'flush'`).
 *
 * Each batch is a new array, and the operator drops its reference before emitting it: a
 * consumer may keep, sort or mutate a batch, and a value the consumer pushes into the source
 * from inside `next` starts the next batch: it neither lands in the batch being emitted
 * (ReactiveX/rxjs#5528, RxJS 6) nor is lost (RxJS 7.8's `bufferTime` drops it, rxjs#3001). With
 * `freeze: true` every batch is frozen, so a consumer that mutates one fails loudly.
 *
 * Backpressure: a library stage downstream (toAsyncIterable, mergeWorkers, ...) gets a batch
 * only when it has asked for one, never more than it asked for; a timer that fires while it has
 * no demand closes the batch, which then waits (unlike Reactor's `bufferTimeout`, which
 * overran its subscriber: reactor-core#994, #3012). Credit is released when a batch is emitted.
 * - From a pausable source (channel, fromPull, a library stage directly upstream) values are
 *   requested for the batch being filled only while fewer than `maxPending` complete batches
 *   wait, so at most `maxPending` complete batches plus one partial batch are held. A batch
 *   whose time runs out while `maxPending` batches wait stays open (values already requested
 *   may still join it) and closes as soon as one of them is emitted.
 * - From a push source, a batch that closes while `maxPending` batches wait is an overflow:
 *   `'error'` (default) fails with an {@link OverflowError} at once, `'drop-oldest'` drops the
 *   oldest waiting batch, `'drop-newest'` drops the batch that closed; drops are counted.
 * - An ordinary subscriber asks for everything, so batches flow as soon as they close.
 *
 * `maxPending` defaults to 1: one complete batch waiting plus one being filled is the smallest
 * bound that still hands a slow consumer its next batch the moment it asks (double buffering).
 *
 * ## Warnings
 * With `maxWait` alone a batch has no count limit: a synchronous source puts everything it has
 * into one batch, and an endless synchronous one never lets the timer fire. Give `size` too.
 * `freeze` is shallow: the values inside a batch are not frozen.
 * Demand does not cross native RxJS operators: put `map` and friends after batchFresh, or
 * inside the worker of a library stage.
 *
 * Failure modes guarded against: a reused batch slice, i.e. an emitted array the producer keeps
 * filling, clears or emits again (PP-08); mutating a pushed item, i.e. a consumer changing a
 * batch someone else still reads (PP-07; `freeze` makes it fail loudly); empty batches from an
 * idle timer; a timer overrunning downstream demand; unbounded batching in front of a slow
 * consumer (PP-04).
 *
 * ## Example
 * ```ts
 * fromPull(rows).pipe(
 *   batchFresh({ size: 500, maxWait: 1000 }),
 *   mergeWorkers((batch, { signal }) => db.insertMany(batch, { signal }), { concurrency: 2 }),
 * );
 * ```
 *
 * @see {@link boundedBuffer}, {@link mergeWorkers}, {@link batchMonitor}
 * @param options `size` and/or `maxWait`, the timer's scheduler, error and overflow policies,
 * `maxPending`, `freeze` and a monitor.
 * @return A function that returns a pausable Observable of batches (non-empty arrays).
 */
export function batchFresh<T>(options: BatchFreshOptions<T>): OperatorFunction<T, T[]> {
  const config = resolveConfig(options) as BatchConfig<T>;
  return (source) => batcher(source, config);
}

function resolveConfig(options: unknown): BatchConfig<unknown> {
  const opts = optionsObject<BatchFreshOptions>(NAME, options, true, [
    'size',
    'maxWait',
    'weight',
    'maxWeight',
    'oversized',
    'scheduler',
    'onError',
    'freeze',
    'maxPending',
    'overflow',
    'monitor',
  ]);
  const size = opts.size === undefined ? undefined : positiveInteger(NAME, 'size', opts.size);
  const maxWait = opts.maxWait;
  if (maxWait !== undefined) {
    if (typeof maxWait !== 'number') throw optionTypeError(NAME, 'maxWait', 'a finite number of ms > 0', maxWait);
    if (!Number.isFinite(maxWait) || maxWait <= 0) {
      throw optionRangeError(NAME, 'maxWait', 'a finite number of ms > 0', maxWait);
    }
    timerDelay(NAME, 'maxWait', maxWait);
  }
  const weighing = resolveWeight(opts);
  if (size === undefined && maxWait === undefined && weighing.maxWeight === undefined) {
    throw new TypeError(
      `${NAME}: 'size', 'maxWait' or 'maxWeight' is required (a count, a time in ms, a weight, or several), got none`,
    );
  }
  const scheduler = optionalScheduler(NAME, 'scheduler', opts.scheduler, asyncScheduler);
  const onError = opts.onError === undefined ? 'discard' : opts.onError;
  if (onError !== 'flush' && onError !== 'discard') {
    throw optionTypeError(NAME, 'onError', "'flush' or 'discard'", onError);
  }
  const freeze = opts.freeze === undefined ? false : opts.freeze;
  if (typeof freeze !== 'boolean') throw optionTypeError(NAME, 'freeze', 'a boolean', freeze);
  const maxPending = optionalPositiveInteger(NAME, 'maxPending', opts.maxPending, 1);
  const overflow = pushOverflowPolicy(NAME, opts.overflow);
  const monitor = optionalMonitor<BatchStats>(NAME, opts.monitor, 'batchMonitor');
  return {
    name: NAME,
    size,
    maxWait,
    ...weighing,
    scheduler,
    flushOnError: onError === 'flush',
    freeze,
    maxPending,
    overflow,
    monitor,
  };
}

/** `weight`, `maxWeight` and `oversized`, which go together. */
function resolveWeight(
  opts: Partial<BatchFreshOptions>,
): Pick<BatchConfig<unknown>, 'weight' | 'maxWeight' | 'oversized'> {
  const weight = optionalFunction<(value: unknown) => number>(NAME, 'weight', opts.weight);
  const maxWeight = opts.maxWeight;
  if (maxWeight !== undefined) {
    if (typeof maxWeight !== 'number') throw optionTypeError(NAME, 'maxWeight', 'a finite number > 0', maxWeight);
    if (!Number.isFinite(maxWeight) || maxWeight <= 0) {
      throw optionRangeError(NAME, 'maxWeight', 'a finite number > 0', maxWeight);
    }
  }
  if ((weight === undefined) !== (maxWeight === undefined)) {
    throw new TypeError(
      `${NAME}: 'weight' and 'maxWeight' go together (a weight per value, and the most a batch may weigh)`,
    );
  }
  const oversized = opts.oversized === undefined ? 'alone' : opts.oversized;
  if (oversized !== 'alone' && oversized !== 'error') {
    throw optionTypeError(NAME, 'oversized', "'alone' or 'error'", oversized);
  }
  if (opts.oversized !== undefined && weight === undefined) {
    throw new TypeError(`${NAME}: 'oversized' needs 'weight' and 'maxWeight'`);
  }
  return { weight, maxWeight, oversized };
}
