import type { Observable, ObservableInput, SchedulerLike } from 'rxjs';
import type { Monitor } from '../core/monitor.js';
import type { DropEvent } from '../queue/bounded-queue.js';
import type { WorkerStats } from './stats.js';

/** What a worker is told about the value it works on. */
export interface WorkContext {
  /** The value's position in the source, from 0. */
  readonly index: number;
  /** 1 for the first try, 2 for the first retry, ... */
  readonly attempt: number;
  /**
   * Aborted when the library cancels this value's work; `signal.reason` is a
   * {@link CancelledError} saying why. Pass it to fetch(), timers, worker threads. Work that has
   * finished is not aborted: a Promise that has resolved keeps its signal even if the subscriber
   * leaves while its result is delivered (take(n)); an Observable inner counts as finished only
   * once it completes, so one whose last value ends the subscription sees its signal aborted.
   */
  readonly signal: AbortSignal;
}

/** A worker: turns one value into an ObservableInput (an Observable, a Promise, an iterable). */
export type Work<T, R> = (value: T, context: WorkContext) => ObservableInput<R>;

/** Bounded retries with capped exponential backoff and jitter. */
export interface RetryOptions {
  /** How many retries after the first attempt (an integer >= 1). */
  count: number;
  /** The first backoff in milliseconds (default 100); doubles each retry. */
  delay?: number | undefined;
  /** The cap on a backoff in milliseconds (default 30,000). */
  maxDelay?: number | undefined;
  /** The fraction of each backoff drawn at random, 0 to 1 (default 0.5: "equal jitter"). */
  jitter?: number | undefined;
  /** The random source for jitter, returning [0, 1) (default Math.random); for tests. */
  random?: (() => number) | undefined;
  /** Which errors are worth a retry (default: all). */
  shouldRetry?: ((error: unknown, context: WorkContext) => boolean) | undefined;
}

/** Options shared by mergeWorkers and orderedMerge. */
export interface WorkerPoolOptions<T> {
  /**
   * How many values are worked on at once: a positive integer, or an Observable of numbers that
   * changes it while running (floored at 1; no work starts before its first value).
   */
  concurrency: number | Observable<number>;
  /**
   * `'fail-fast'` (default): the first failure is delivered and every other worker is aborted.
   * `'continue'`: a failed value is reported to `onError` and counted, and the pool goes on.
   */
  errors?: 'fail-fast' | 'continue' | undefined;
  /** With `errors: 'continue'`, called for each value whose work failed for good. */
  onError?: ((error: unknown, value: T, context: WorkContext) => void) | undefined;
  /** Retries for failed work; none by default. */
  retry?: RetryOptions | undefined;
  /** Times the retry backoff and `timeout` (default asyncScheduler); a TestScheduler gives virtual time. */
  scheduler?: SchedulerLike | undefined;
  /**
   * For a source that cannot be paused: how many values may wait for a worker (default 1024). A
   * pausable source is asked for free slots only and needs no queue. With `key`, also how many
   * values may wait behind busy keys (read past them to reach other keys).
   */
  capacity?: number | undefined;
  /**
   * How many extra results may wait, beyond one per value the pool holds (default 1024): results
   * held for a pulling consumer that is not asking, or, in orderedMerge, behind a slower
   * earlier value. Only workers whose inners emit several values can reach it; one more is an
   * OverflowError. mergeWorkers with a plain subscriber never holds a result.
   */
  resultCapacity?: number | undefined;
  /** For a source that cannot be paused only: what a full queue does (default `'error'`). */
  overflow?: 'drop-newest' | 'drop-oldest' | 'error' | undefined;
  /** For a source that cannot be paused only: called with each dropped value. */
  onDrop?: ((value: T, event: DropEvent) => void) | undefined;
  /**
   * How long one attempt may run, in milliseconds (timed on `scheduler`). When it passes, the
   * attempt's signal is aborted with a {@link TimeoutError}, its inner is unsubscribed, and the
   * attempt fails with that error: a retry sees it like any other failure
   * (`shouldRetry: (err) => !(err instanceof TimeoutError)` retries everything else). The next
   * attempt gets a fresh signal. No limit by default.
   */
  timeout?: number | undefined;
  /**
   * Keyed concurrency: values with the same key (compared with `Map` semantics, SameValueZero) run
   * one at a time and in input order; values of different keys run in parallel up to
   * `concurrency`. A value whose key is busy waits, counted as queued. A hot key cannot starve the
   * others: it holds one worker at a time, and the pool reads past its waiting values, up to
   * `capacity` of them, to reach values of other keys, which start first. A key is forgotten when
   * its last value finishes.
   */
  key?: ((value: T) => unknown) | undefined;
  /** Receives live counters; create one with {@link workerMonitor}. */
  monitor?: Monitor<WorkerStats> | undefined;
}
