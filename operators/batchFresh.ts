import { asyncScheduler, type Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { Deque } from '../lib/queue/deque.js';
import { OverflowError, optionRangeError, optionTypeError } from '../lib/core/errors.js';
import { Monitor } from '../lib/core/monitor.js';
import { demandSource, type Producer, type ProducerSink } from '../lib/core/producer.js';
import type { Cancellation } from '../lib/core/protocol.js';
import { upstreamOf, type Upstream } from '../lib/core/upstream.js';
import {
  optionalMonitor,
  optionalPositiveInteger,
  optionalScheduler,
  optionsObject,
  overflowPolicy,
  positiveInteger,
  timerDelay,
} from '../lib/core/validate.js';

const NAME = 'batchFresh';

/** Counters of one batchFresh subscription. */
export interface BatchStats {
  /** Values that arrived from upstream. */
  readonly received: number;
  /** Batches handed downstream. */
  readonly emitted: number;
  /** Values handed downstream, over all emitted batches. */
  readonly valuesEmitted: number;
  /** Complete batches dropped by the overflow policy (`drop-newest`, `drop-oldest`; push sources only). */
  readonly dropped: number;
  /**
   * Batches thrown away, complete or partial: on a source error with `onError: 'discard'`, on an
   * OverflowError (including the batch that did not fit), and on unsubscribe.
   */
  readonly discarded: number;
  /** Values in dropped and discarded batches. */
  readonly valuesLost: number;
  /** Complete batches waiting for downstream demand now (at most `maxPending`). */
  readonly pending: number;
  /** Values in the batch being filled now. */
  readonly current: number;
}

/** Options of {@link batchFresh}. Give `size`, `maxWait`, or both. */
export interface BatchFreshOptions {
  /** Closes a batch when it holds this many values; an integer >= 1. */
  size?: number | undefined;
  /**
   * Closes a batch this many milliseconds after its first value arrived; a finite number > 0.
   * The timer runs only while a batch has values, so an idle source produces no empty batches.
   */
  maxWait?: number | undefined;
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
   * How many complete batches may wait for a demand-aware consumer (an integer >= 1, default 1).
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
 * A monitor for {@link batchFresh}: `snapshot()` reads batches emitted, pending, dropped and
 * discarded, and `changes` emits them as they change.
 *
 * @return A fresh monitor; pass it as the `monitor` option.
 */
export function batchMonitor(): Monitor<BatchStats> {
  return new Monitor<BatchStats>(
    {
      received: 0,
      emitted: 0,
      valuesEmitted: 0,
      dropped: 0,
      discarded: 0,
      valuesLost: 0,
      pending: 0,
      current: 0,
    },
    'batchMonitor',
  );
}

/**
 * Collects values into batches by count, by time, or both, emitting each batch as a freshly
 * allocated array that the operator never touches again, and only against downstream demand.
 *
 * ![batchFresh](../docs/diagrams/batchFresh-size-and-time.svg)
 *
 * A batch closes when it holds `size` values or `maxWait` ms after its first value arrived,
 * whichever comes first. The timer starts with a batch's first value, so an idle source never
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
 * @return A function that returns a demand-aware Observable of batches (non-empty arrays).
 */
export function batchFresh<T>(options: BatchFreshOptions): OperatorFunction<T, T[]> {
  const config = resolveConfig(options);
  return (source) => demandSource<T[]>(NAME, (sink) => startBatcher(source, config, sink));
}

interface BatchConfig {
  size: number | undefined;
  maxWait: number | undefined;
  scheduler: SchedulerLike;
  flushOnError: boolean;
  freeze: boolean;
  maxPending: number;
  overflow: 'drop-newest' | 'drop-oldest' | 'error';
  monitor: Monitor<BatchStats> | undefined;
}

function resolveConfig(options: unknown): BatchConfig {
  const opts = optionsObject<BatchFreshOptions>(NAME, options, true, [
    'size',
    'maxWait',
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
  if (size === undefined && maxWait === undefined) {
    throw new TypeError(`${NAME}: 'size' or 'maxWait' is required (a count, a time in ms, or both), got neither`);
  }
  const scheduler = optionalScheduler(NAME, 'scheduler', opts.scheduler, asyncScheduler);
  const onError = opts.onError === undefined ? 'discard' : opts.onError;
  if (onError !== 'flush' && onError !== 'discard') {
    throw optionTypeError(NAME, 'onError', "'flush' or 'discard'", onError);
  }
  const freeze = opts.freeze === undefined ? false : opts.freeze;
  if (typeof freeze !== 'boolean') throw optionTypeError(NAME, 'freeze', 'a boolean', freeze);
  const maxPending = optionalPositiveInteger(NAME, 'maxPending', opts.maxPending, 1);
  const overflow = overflowPolicy(NAME, 'overflow', opts.overflow, 'error');
  if (overflow === 'block') {
    throw optionTypeError(
      NAME,
      'overflow',
      "'drop-newest', 'drop-oldest' or 'error' (a pausable source is paused without a policy)",
      overflow,
    );
  }
  const monitor = optionalMonitor<BatchStats>(NAME, opts.monitor, 'batchMonitor');
  return { size, maxWait, scheduler, flushOnError: onError === 'flush', freeze, maxPending, overflow, monitor };
}

function startBatcher<T>(source: Observable<T>, config: BatchConfig, sink: ProducerSink<T[]>): Producer {
  const { size, maxWait, scheduler, flushOnError, freeze, maxPending, overflow, monitor } = config;

  const ready = new Deque<T[]>(); // complete batches waiting for demand, at most maxPending
  let current: T[] | undefined; // the batch being filled; allocated with its first value
  let timer: Subscription | undefined;
  let overdue = false; // current's time ran out while `ready` was full (pausable source only)
  let upstream: Upstream<T> | undefined;
  let pausable = false;
  let outstanding = 0; // requested from a pausable upstream and not yet received
  let upstreamDone = false; // completed, or errored under 'flush': no value will arrive
  let pendingError: { err: unknown } | undefined;
  let finished = false;
  let received = 0;
  let emitted = 0;
  let valuesEmitted = 0;
  let dropped = 0;
  let discarded = 0;
  let valuesLost = 0;

  const stats = (): BatchStats => ({
    received,
    emitted,
    valuesEmitted,
    dropped,
    discarded,
    valuesLost,
    pending: ready.size,
    current: current?.length ?? 0,
  });
  monitor?.attach(stats);

  // ---- receiving values ----------------------------------------------------------------------

  function onValue(value: T): void {
    if (finished) return;
    received++;
    if (outstanding !== Infinity && outstanding > 0) outstanding--;
    if (current === undefined) {
      current = [value];
      startTimer();
    } else {
      current.push(value);
    }
    const full = size !== undefined && current.length >= size;
    if (full) closeBatch();
    monitor?.notify();
    // The pump has work only when a batch closed, or a pausable source must be asked for more.
    if (full || (pausable && outstanding === 0)) sink.schedulePump();
  }

  function onError(err: unknown): void {
    if (finished) return;
    if (!flushOnError) {
      sink.error(err); // teardown counts what was held as discarded
      return;
    }
    pendingError = { err };
    sourceEnded();
  }

  function onComplete(): void {
    if (finished) return;
    sourceEnded();
  }

  /** No value will arrive: the batch being filled is final, so its timer is moot. */
  function sourceEnded(): void {
    upstreamDone = true;
    cancelTimer();
    sink.schedulePump();
  }

  // ---- closing and emitting batches ----------------------------------------------------------

  function startTimer(): void {
    if (maxWait === undefined) return;
    timer = scheduler.schedule(onTimer, maxWait);
  }

  function cancelTimer(): void {
    timer?.unsubscribe();
    timer = undefined;
  }

  function onTimer(): void {
    timer = undefined;
    if (finished || upstreamDone || current === undefined) return;
    // A pausable source has been asked for nothing more; keep the batch open rather than hold
    // more than maxPending complete batches. It closes as soon as one is emitted (pump).
    if (pausable && ready.size >= maxPending) overdue = true;
    else closeBatch();
    monitor?.notify();
    sink.schedulePump();
  }

  /** The batch being filled is complete: emit it if downstream has asked, otherwise it waits. */
  function closeBatch(): void {
    const batch = current;
    if (batch === undefined) return;
    current = undefined;
    overdue = false;
    cancelTimer();
    if (ready.isEmpty && sink.demand > 0) emit(batch);
    else if (ready.size < maxPending) ready.push(batch);
    else overflowed(batch);
  }

  function emit(batch: T[]): void {
    emitted++;
    valuesEmitted += batch.length;
    // The operator holds no reference to `batch` any more (it left `current` or `ready` first).
    if (freeze) Object.freeze(batch);
    sink.next(batch);
  }

  function overflowed(batch: T[]): void {
    switch (overflow) {
      case 'drop-newest':
        dropped++;
        valuesLost += batch.length;
        return;
      case 'drop-oldest': {
        const oldest = ready.shift();
        dropped++;
        valuesLost += oldest.length;
        ready.push(batch);
        return;
      }
      default:
        discarded++;
        valuesLost += batch.length;
        sink.error(new OverflowError(NAME, maxPending, 'error', 'batches', { option: 'maxPending' }));
    }
  }

  // ---- the drain loop (run by the kernel, re-entrancy safe) ----------------------------------

  function pump(): void {
    if (finished) return;
    while (sink.demand > 0 && !ready.isEmpty) emit(ready.shift());
    if (finished) return; // the consumer cancelled inside next
    // A batch whose time ran out, or the final partial one, closes once there is room.
    if (current !== undefined && (overdue || upstreamDone) && ready.size < maxPending) closeBatch();
    if (finished) return;
    if (upstreamDone && ready.isEmpty && current === undefined) {
      if (pendingError !== undefined) sink.error(pendingError.err);
      else sink.complete();
      return;
    }
    refill();
    monitor?.notify();
  }

  /** Asks a pausable source for the batch being filled, while the waiting batches leave room. */
  function refill(): void {
    if (!pausable || upstream === undefined || upstreamDone || finished || outstanding === Infinity) return;
    if (sink.demand === Infinity) {
      // Nobody downstream can be overrun: batches leave as soon as they close.
      outstanding = Infinity;
      upstream.request(Infinity);
      return;
    }
    if (overdue || ready.size >= maxPending) return;
    // Without a size, ask for one value at a time: the timer, not a count, closes the batch.
    const want = size === undefined ? 1 - outstanding : size - (current?.length ?? 0) - outstanding;
    if (want > 0) {
      outstanding += want;
      upstream.request(want);
    }
  }

  // ---- connecting and ending -------------------------------------------------------------------

  function connect(): void {
    const up = upstreamOf(source);
    upstream = up;
    pausable = up.pausable;
    up.connect({ next: onValue, error: onError, complete: onComplete });
    sink.schedulePump();
  }

  /**
   * Called once by the kernel on completion, error or cancel: releases the timer and the source,
   * passing a cancellation on upstream and reporting the values it abandons to its tally.
   */
  function teardown(cancellation?: Cancellation): void {
    finished = true;
    cancelTimer();
    let held = 0;
    if (current !== undefined) {
      discarded++;
      held += current.length;
      current = undefined;
    }
    while (!ready.isEmpty) {
      discarded++;
      held += ready.shift().length;
    }
    valuesLost += held;
    cancellation?.tally?.record(NAME, held, 0);
    upstream?.cancel(cancellation);
    upstream = undefined;
    monitor?.notify();
  }

  return { pump, teardown, connect };
}
