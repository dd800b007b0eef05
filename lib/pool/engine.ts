import {
  Observable,
  asyncScheduler,
  from,
  isObservable,
  type ObservableInput,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import {
  CancelledError,
  OverflowError,
  ProtocolError,
  optionRangeError,
  optionTypeError,
  reportUnhandled,
  type CancelReason,
} from '../core/errors.js';
import { Deque } from '../queue/deque.js';
import { Monitor } from '../core/monitor.js';
import { demandSource, type Producer, type ProducerSink } from '../core/producer.js';
import type { Cancellation, DemandObservable } from '../core/protocol.js';
import { upstreamOf, type Upstream } from '../core/upstream.js';
import { bufferMonitor, type DropEvent } from '../queue/bounded-queue.js';
import { pausableOf } from '../queue/absorb.js';
import {
  MAX_COUNT,
  optionalFunction,
  optionalMonitor,
  optionalPositiveInteger,
  optionalScheduler,
  optionsObject,
  overflowPolicy,
  positiveInteger,
  timerDelay,
} from '../core/validate.js';

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

/** Counters of one worker-pool subscription. */
export interface WorkerStats {
  /** Values accepted and waiting for a free worker (including the push-source queue). */
  readonly queued: number;
  /** Values being worked on now (including those waiting to retry). */
  readonly inFlight: number;
  /** Values whose work completed. */
  readonly completed: number;
  /** Values whose work failed for good (after retries). */
  readonly failed: number;
  /** Retries started. */
  readonly retried: number;
  /** Values dropped by the push-source queue's overflow policy. */
  readonly dropped: number;
  /** Finished results, or queued values, thrown away by an error or an unsubscribe. */
  readonly discarded: number;
}

/**
 * A monitor for mergeWorkers and orderedMerge: `snapshot()` reads values queued, in flight,
 * completed, failed, retried, dropped and discarded, and `changes` emits them as they change.
 *
 * @return A fresh monitor; pass it as the `monitor` option.
 */
export function workerMonitor(): Monitor<WorkerStats> {
  return new Monitor<WorkerStats>(
    {
      queued: 0,
      inFlight: 0,
      completed: 0,
      failed: 0,
      retried: 0,
      dropped: 0,
      discarded: 0,
    },
    'workerMonitor',
  );
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
  /** Times the retry backoff (default asyncScheduler); a TestScheduler gives virtual time. */
  scheduler?: SchedulerLike | undefined;
  /**
   * For a source that cannot be paused only: how many values may wait for a worker (default
   * 1024). A demand-aware source is asked for free slots only and needs no queue.
   */
  capacity?: number | undefined;
  /**
   * How many extra results may wait, beyond one per value the pool holds (default 1024): results
   * held for a demand-aware consumer that is not asking, or, in orderedMerge, behind a slower
   * earlier value. Only workers whose inners emit several values can reach it; one more is an
   * OverflowError. mergeWorkers with a plain subscriber never holds a result.
   */
  resultCapacity?: number | undefined;
  /** For a source that cannot be paused only: what a full queue does (default `'error'`). */
  overflow?: 'drop-newest' | 'drop-oldest' | 'error' | undefined;
  /** For a source that cannot be paused only: called with each dropped value. */
  onDrop?: ((value: T, event: DropEvent) => void) | undefined;
  /** Receives live counters; create one with {@link workerMonitor}. */
  monitor?: Monitor<WorkerStats> | undefined;
}

/** @internal The resolved configuration of a pool. */
export interface PoolConfig<T, R> {
  name: string;
  work: Work<T, R>;
  concurrency: number | Observable<number>;
  ordered: boolean;
  /** Ordered only: how many values may be between acceptance and emission. */
  window: number;
  failFast: boolean;
  onError: ((error: unknown, value: T, context: WorkContext) => void) | undefined;
  retry:
    | ({ [K in Exclude<keyof RetryOptions, 'shouldRetry'>]-?: NonNullable<RetryOptions[K]> } & {
        shouldRetry: RetryOptions['shouldRetry'];
      })
    | undefined;
  scheduler: SchedulerLike;
  capacity: number;
  resultCapacity: number;
  overflow: 'drop-newest' | 'drop-oldest' | 'error';
  onDrop: ((value: T, event: DropEvent) => void) | undefined;
  monitor: Monitor<WorkerStats> | undefined;
}

const POOL_KEYS = [
  'concurrency',
  'errors',
  'onError',
  'retry',
  'scheduler',
  'capacity',
  'resultCapacity',
  'overflow',
  'onDrop',
  'monitor',
] as const;

const RETRY_KEYS = ['count', 'delay', 'maxDelay', 'jitter', 'random', 'shouldRetry'] as const;

/** @internal Validates the options shared by both operators; fails fast naming the parameter. */
export function resolvePoolConfig<T, R>(
  name: string,
  work: unknown,
  options: unknown,
  ordered: boolean,
): PoolConfig<T, R> {
  if (typeof work !== 'function') throw optionTypeError(name, 'work', 'a function', work);
  const known: (keyof WorkerPoolOptions<T> | 'window')[] = [...POOL_KEYS];
  if (ordered) known.push('window');
  const opts = optionsObject<WorkerPoolOptions<T> & { window?: number }>(name, options, true, known);
  const concurrency = opts.concurrency;
  if (!isObservable(concurrency)) {
    if (typeof concurrency !== 'number') {
      throw optionTypeError(name, 'concurrency', 'a positive integer or an Observable<number>', concurrency);
    }
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw optionRangeError(name, 'concurrency', 'a positive integer or an Observable<number>', concurrency);
    }
    if (concurrency > MAX_COUNT)
      throw optionRangeError(name, 'concurrency', `a positive integer up to ${MAX_COUNT}`, concurrency);
  }
  const errors = opts.errors === undefined ? 'fail-fast' : opts.errors;
  if (errors !== 'fail-fast' && errors !== 'continue') {
    throw optionTypeError(name, 'errors', "'fail-fast' or 'continue'", errors);
  }
  const overflow = overflowPolicy(name, 'overflow', opts.overflow, 'error');
  if (overflow === 'block') {
    throw optionTypeError(
      name,
      'overflow',
      "'drop-newest', 'drop-oldest' or 'error' (a paused source needs no policy)",
      overflow,
    );
  }
  const scheduler = optionalScheduler(name, 'scheduler', opts.scheduler, asyncScheduler);
  const monitor = optionalMonitor<WorkerStats>(name, opts.monitor, 'workerMonitor');
  const defaultWindow = typeof concurrency === 'number' ? concurrency * 2 : 32;
  const window = ordered ? optionalPositiveInteger(name, 'window', opts.window, defaultWindow) : Infinity;
  if (ordered && typeof concurrency === 'number' && window < concurrency) {
    throw optionRangeError(name, 'window', `an integer >= concurrency (${concurrency})`, window);
  }
  return {
    name,
    work: work as Work<T, R>,
    concurrency,
    ordered,
    window,
    failFast: errors === 'fail-fast',
    onError: optionalFunction(name, 'onError', opts.onError),
    retry: resolveRetry(name, opts.retry),
    scheduler,
    capacity: optionalPositiveInteger(name, 'capacity', opts.capacity, 1024),
    resultCapacity: optionalPositiveInteger(name, 'resultCapacity', opts.resultCapacity, 1024),
    overflow,
    onDrop: optionalFunction(name, 'onDrop', opts.onDrop),
    monitor,
  };
}

function resolveRetry(name: string, retry: RetryOptions | undefined): PoolConfig<unknown, unknown>['retry'] {
  if (retry === undefined) return undefined;
  if (typeof retry !== 'object' || retry === null || Array.isArray(retry)) {
    throw optionTypeError(name, 'retry', 'an options object', retry);
  }
  optionsObject<RetryOptions>(name, retry, true, RETRY_KEYS, 'retry');
  const count = positiveInteger(name, 'retry.count', retry.count);
  const nonNegative = (parameter: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number') throw optionTypeError(name, parameter, 'a finite number >= 0', value);
    if (!Number.isFinite(value) || value < 0) throw optionRangeError(name, parameter, 'a finite number >= 0', value);
    return value;
  };
  const delayMs = (parameter: string, value: number | undefined, fallback: number): number =>
    timerDelay(name, parameter, nonNegative(parameter, value, fallback));
  const jitter = nonNegative('retry.jitter', retry.jitter, 0.5);
  if (jitter > 1) throw optionRangeError(name, 'retry.jitter', 'a number from 0 to 1', jitter);
  return {
    count,
    delay: delayMs('retry.delay', retry.delay, 100),
    maxDelay: delayMs('retry.maxDelay', retry.maxDelay, 30_000),
    jitter,
    random: optionalFunction(name, 'retry.random', retry.random) ?? Math.random,
    shouldRetry: optionalFunction(name, 'retry.shouldRetry', retry.shouldRetry),
  };
}

/** Where a task passes its inner's results; one per pool, shared by its tasks. */
interface TaskHooks<R> {
  result(task: Task<unknown, R>, result: R): void;
}

const RUNNING = 0;
const COMPLETED = 1;
const FAILED = 2;

/**
 * One accepted value, from acceptance to emission of its last result. A class, not a literal
 * with closures: the pool makes one per value, and as the observer of its own inner it saves
 * the three callbacks (and the outcome object) each attempt would otherwise allocate.
 */
class Task<T, R> {
  attempt = 0;
  /** Made on the first read of `context.signal`: most workers never look, and it is not free. */
  controller: AbortController | undefined = undefined;
  /** Ordered mode: results waiting until this task is the head (made on the first one). */
  results: Deque<R> | undefined = undefined;
  done = false;
  /** The work's promise has resolved: nothing is left running to abort, even mid-delivery. */
  resolved = false;
  /** The running attempt's inner subscription (not for a Promise: it has nothing to cancel). */
  subscription: Subscription | undefined = undefined;
  retryTimer: Subscription | undefined = undefined;
  /** How the running attempt's inner ended; acted on once its teardown has run. */
  outcome = RUNNING;
  failure: unknown = undefined;
  /** Neighbours in the pool's list of running tasks: O(1) in and out, no hashing. */
  before: Task<T, R> | undefined = undefined;
  after: Task<T, R> | undefined = undefined;

  /**
   * The task itself, for its observer methods: under RxJS's deprecated
   * `config.useDeprecatedNextContext` they are called on a copy (`Object.create(task)`), where
   * `this` would read the task's fields but write to the copy.
   */
  private readonly self: Task<T, R> = this;

  constructor(
    readonly value: T,
    readonly index: number,
    private readonly hooks: TaskHooks<R>,
  ) {}

  next(result: R): void {
    this.hooks.result(this.self, result);
  }

  error(err: unknown): void {
    this.self.outcome = FAILED;
    this.self.failure = err;
  }

  complete(): void {
    this.self.outcome = COMPLETED;
  }
}

/**
 * The context handed to a worker; its signal exists only once somebody asks for it. A separate
 * object, not the task itself: a worker that logs or serializes its context must not see (or
 * trip over the links between) the pool's bookkeeping, and `attempt` stays that attempt's.
 */
class TaskContext implements WorkContext {
  readonly #task: Task<unknown, unknown>;

  constructor(
    task: Task<unknown, unknown>,
    readonly attempt: number,
  ) {
    this.#task = task;
  }

  get index(): number {
    return this.#task.index;
  }

  get signal(): AbortSignal {
    return (this.#task.controller ??= new AbortController()).signal;
  }
}

/** @internal The engine behind mergeWorkers and orderedMerge. */
export function workerPool<T, R>(source: Observable<T>, config: PoolConfig<T, R>): DemandObservable<R> {
  return demandSource<R>(config.name, (sink) => startPool(source, config, sink));
}

function startPool<T, R>(source: Observable<T>, config: PoolConfig<T, R>, sink: ProducerSink<R>): Producer {
  const { name, work, ordered, window, failFast, onError, retry, scheduler, monitor } = config;

  // A source that cannot be paused is absorbed by a bounded queue with the configured policy;
  // from there on the pool always pulls.
  const queueMonitor = bufferMonitor();
  const pullable = pausableOf(source, {
    name,
    capacity: config.capacity,
    overflow: config.overflow,
    onDrop: config.onDrop,
    monitor: queueMonitor,
    delayError: false,
  });

  const waiting = new Deque<Task<T, R>>(); // accepted, not started
  const window$ = new Deque<Task<T, R>>(); // ordered: every task from acceptance to emission
  const unorderedResults = new Deque<R>();
  // Running tasks, as a doubly linked list through the tasks themselves.
  let firstRunning: Task<T, R> | undefined;
  let lastRunning: Task<T, R> | undefined;
  let runningCount = 0;
  let upstream: Upstream<T> | undefined;
  let concurrency = typeof config.concurrency === 'number' ? config.concurrency : 0;
  let concurrencySub: Subscription | undefined;
  let outstanding = 0;
  let requesting = false; // inside requestMore's call to the source
  let attempting = 0; // depth of attempt() calls on the stack: a worker or a synchronous inner running
  let nextIndex = 0;
  let upstreamDone = false;
  let finished = false;
  let completed = 0;
  let failed = 0;
  let retried = 0;
  let discarded = 0;

  const stats = (): WorkerStats => {
    const q = queueMonitor.snapshot();
    return {
      queued: waiting.size + q.depth,
      inFlight: runningCount,
      completed,
      failed,
      retried,
      dropped: q.dropped,
      discarded: discarded + q.discarded,
    };
  };
  monitor?.attach(stats);

  let bufferedResults = 0; // results waiting for downstream demand, over all tasks

  // ---- accepting values -------------------------------------------------------------------

  function onValue(value: T): void {
    if (finished) return;
    if (outstanding <= 0) {
      // Only a misbehaving demand-aware source sends unrequested values (push sources reach the
      // pool through its bounded queue); refusing them keeps the pool's memory bounded.
      fail(new ProtocolError(`${name}: the source sent a value that was not requested (rule 1.1)`), 'source-failed');
      return;
    }
    if (outstanding !== Infinity) outstanding--;
    const task = new Task<T, R>(value, nextIndex++, hooks);
    if (ordered) window$.push(task);
    // Asked for by this pump (a synchronous source answers inside request) with a slot free and
    // nobody ahead, a value starts at once: the queue would only hand it straight back. Anywhere
    // else, and above all from inside a running inner's synchronous emission (a subscriber that
    // pushes into the source), it waits for the pump, whose loop keeps the stack flat however
    // large the concurrency.
    if (requesting && attempting === 0 && waiting.isEmpty && slotFree()) {
      startTask(task);
      return;
    }
    waiting.push(task);
    // The pump that asked starts the values itself; a second turn of its loop would find nothing.
    if (!requesting) sink.schedulePump();
  }

  function onSourceError(err: unknown): void {
    if (finished) return;
    fail(err, 'source-failed');
  }

  function onSourceComplete(): void {
    if (finished) return;
    upstreamDone = true;
    sink.schedulePump();
  }

  // ---- running work -----------------------------------------------------------------------

  const hooks: TaskHooks<R> = {
    result: (task, result) => onResult(task as Task<T, R>, result),
  };

  function startTask(task: Task<T, R>): void {
    runningCount++;
    if (lastRunning === undefined) firstRunning = task;
    else lastRunning.after = task;
    task.before = lastRunning;
    lastRunning = task;
    attempt(task);
  }

  function stopRunning(task: Task<T, R>): void {
    const { before, after } = task;
    if (before === undefined) firstRunning = after;
    else before.after = after;
    if (after === undefined) lastRunning = before;
    else after.before = before;
    task.before = task.after = undefined;
    runningCount--;
  }

  function attempt(task: Task<T, R>): void {
    attempting++;
    try {
      runAttempt(task);
    } finally {
      attempting--;
    }
  }

  function runAttempt(task: Task<T, R>): void {
    task.attempt++;
    task.retryTimer = undefined;
    task.outcome = RUNNING;
    let output: ObservableInput<R>;
    try {
      output = work(task.value, new TaskContext(task, task.attempt));
    } catch (err) {
      onTaskError(task, err);
      return;
    }
    // Most workers are async functions: a native Promise needs no Observable around it, and a
    // subscription to it could only ignore its result, which the task's `done` flag does too.
    if (output instanceof Promise) {
      (output as Promise<R>).then(
        (result) => promiseSettled(task, false, result),
        (err: unknown) => promiseSettled(task, true, err),
      );
      return;
    }
    let input: Observable<R>;
    try {
      input = toObservable(output, task.index);
    } catch (err) {
      onTaskError(task, err);
      return;
    }
    entering = task;
    enteringInput = input;
    gate.subscribe(task);
  }

  // The inner is subscribed through a wrapper so that (1) its subscriber is in hand before a
  // synchronous inner emits, and unsubscribing it stops the burst, and (2) the outcome is acted
  // on after the inner's own teardown, so a slot is released only once the work's resources are
  // (the order mergeMap keeps too). One wrapper serves every attempt: its subscribe function runs
  // at once inside subscribe(), so the task and its inner are handed over in two variables.
  let entering: Task<T, R> | undefined;
  let enteringInput: Observable<R> | undefined;
  const gate = new Observable<R>((subscriber) => {
    const task = entering!;
    const input = enteringInput!;
    entering = enteringInput = undefined;
    task.subscription = subscriber;
    try {
      input.subscribe(subscriber);
    } catch (err) {
      // Only under RxJS's deprecated synchronous error handling does subscribe() throw; the
      // task must still fail and free its slot.
      subscriber.error(err);
    }
    // A synchronous inner has ended, and its teardown has run, by now: no finalizer is needed.
    if (subscriber.closed) onInnerEnded(task);
    else subscriber.add(() => onInnerEnded(task));
  });

  function promiseSettled(task: Task<T, R>, rejected: boolean, outcome: unknown): void {
    // Nobody is subscribed to the promise to take a throw from here (a downstream callback,
    // say): report it as RxJS reports one, never as an unhandled rejection.
    try {
      if (rejected) {
        onTaskError(task, outcome);
        return;
      }
      task.resolved = true;
      try {
        onResult(task, outcome as R);
      } catch (err) {
        // The consumer's problem, not the work's: the value is done and its slot must be freed.
        reportUnhandled(err);
      }
      onTaskComplete(task);
    } catch (err) {
      reportUnhandled(err);
    }
  }

  function onInnerEnded(task: Task<T, R>): void {
    const outcome = task.outcome;
    if (outcome === RUNNING) return; // unsubscribed: release() has dealt with the task
    if (outcome === FAILED) {
      const err = task.failure;
      task.failure = undefined;
      onTaskError(task, err);
    } else {
      onTaskComplete(task);
    }
  }

  function toObservable(input: ObservableInput<R>, index: number): Observable<R> {
    try {
      return from(input);
    } catch {
      throw optionTypeError(
        name,
        'work',
        `a function returning an ObservableInput (Observable, Promise, array, iterable, async iterable) for value #${index}; it returned`,
        input,
      );
    }
  }

  function onResult(task: Task<T, R>, result: R): void {
    if (finished || task.done) return;
    const head = ordered ? window$.peek() === task : true;
    if (
      head &&
      sink.demand > 0 &&
      (ordered ? task.results === undefined || task.results.isEmpty : unorderedResults.isEmpty)
    ) {
      sink.next(result); // fast path: nothing waits ahead of it
      return;
    }
    // One result per value is already bounded by the pool (a window of them, or a running and a
    // waiting one per worker); resultCapacity bounds what extra results an inner adds on top.
    const perValue = ordered ? window : 2 * concurrency;
    if (bufferedResults >= perValue + config.resultCapacity) {
      fail(new OverflowError(name, config.resultCapacity, 'error', 'results'), 'source-failed');
      return;
    }
    (ordered ? (task.results ??= new Deque<R>()) : unorderedResults).push(result);
    bufferedResults++;
    sink.schedulePump();
  }

  function onTaskComplete(task: Task<T, R>): void {
    if (finished || task.done) return;
    completed++;
    settle(task);
  }

  function onTaskError(task: Task<T, R>, err: unknown): void {
    if (finished || task.done) return;
    task.subscription = undefined;
    if (retry !== undefined && task.attempt <= retry.count) {
      let again: boolean;
      try {
        again = shouldRetry(task, err);
      } catch (callbackError) {
        failed++;
        failFastNow(task, callbackError);
        return;
      }
      if (again) {
        scheduleRetry(task);
        return;
      }
    }
    failed++;
    if (!failFast && onError !== undefined) {
      try {
        onError(err, task.value, new TaskContext(task, task.attempt));
      } catch (callbackError) {
        err = callbackError;
        failFastNow(task, err);
        return;
      }
    }
    if (failFast) failFastNow(task, err);
    else settle(task);
  }

  /** Ends the pool with this task's error; no other work may start in between. */
  function failFastNow(task: Task<T, R>, err: unknown): void {
    task.done = true;
    stopRunning(task);
    fail(err, 'sibling-failed');
  }

  /** Throws what a throwing `shouldRetry` threw: the caller fails the stream with it. */
  function shouldRetry(task: Task<T, R>, err: unknown): boolean {
    if (retry?.shouldRetry === undefined) return true;
    return retry.shouldRetry(err, new TaskContext(task, task.attempt));
  }

  function scheduleRetry(task: Task<T, R>): void {
    const { delay, maxDelay, jitter, random } = retry!;
    const backoff = Math.min(maxDelay, delay * 2 ** (task.attempt - 1));
    const wait = backoff * (1 - jitter) + backoff * jitter * random();
    retried++;
    // The slot stays held during the backoff: the value's work is not finished.
    task.retryTimer = scheduler.schedule(() => {
      if (!finished && !task.done) attempt(task);
    }, wait);
    monitor?.notify();
  }

  /** The value's work is over (completed, or failed and reported): release its slot. */
  function settle(task: Task<T, R>): void {
    task.done = true;
    task.subscription = undefined;
    stopRunning(task);
    sink.schedulePump();
  }

  // ---- the drain loop (run by the kernel, re-entrancy safe) -------------------------------

  function pump(): void {
    if (finished) return;
    emitResults();
    startWaiting();
    if (requestMore()) startWaiting();
    monitor?.notify();
    if (
      !finished &&
      upstreamDone &&
      waiting.isEmpty &&
      runningCount === 0 &&
      (ordered ? window$.isEmpty : unorderedResults.isEmpty)
    ) {
      finish();
      sink.complete();
    }
  }

  function emitResults(): void {
    if (!ordered) {
      while (!unorderedResults.isEmpty && sink.demand > 0) {
        bufferedResults--;
        sink.next(unorderedResults.shift());
      }
      return;
    }
    // Credit is released only when the head is emitted, so a slow head holds the window.
    while (!window$.isEmpty) {
      const head = window$.peek()!;
      const results = head.results;
      while (sink.demand > 0 && results !== undefined && !results.isEmpty) {
        bufferedResults--;
        sink.next(results.shift());
      }
      if (!head.done || (results !== undefined && !results.isEmpty) || finished) return;
      window$.shift();
    }
  }

  function startWaiting(): void {
    while (!waiting.isEmpty && slotFree()) startTask(waiting.shift());
  }

  /** Whether one more value may start now. */
  function slotFree(): boolean {
    return !finished && runningCount < concurrency && !resultsBackedUp();
  }

  /** A demand-aware consumer that has stopped asking stops the pool from starting more work. */
  function resultsBackedUp(): boolean {
    // Ordered results may wait behind a slow head up to the window; unordered ones need not.
    return bufferedResults > 0 && sink.demand !== Infinity && bufferedResults >= (ordered ? window : concurrency);
  }

  /** Asks the source for what free slots (and the window) allow; true when it asked. */
  function requestMore(): boolean {
    if (finished || upstreamDone || upstream === undefined) return false;
    let credit = concurrency - runningCount - waiting.size - outstanding;
    if (ordered) credit = Math.min(credit, window - window$.size - outstanding);
    if (credit <= 0 || resultsBackedUp()) return false;
    outstanding += credit;
    requesting = true;
    try {
      upstream.request(credit);
    } finally {
      requesting = false;
    }
    return true;
  }

  // ---- ending ------------------------------------------------------------------------------

  function fail(err: unknown, reason: CancelReason): void {
    if (finished) return;
    release(reason, err);
    sink.error(err);
  }

  function finish(cancellation?: Cancellation): void {
    finished = true;
    concurrencySub?.unsubscribe();
    concurrencySub = undefined;
    upstream?.cancel(cancellation);
    upstream = undefined;
  }

  /** Aborts every running worker with a reason, ends every inner, and drops every reference. */
  function release(reason: CancelReason, cause?: unknown, cancellation?: Cancellation): void {
    const wasFinished = finished;
    // Finished results not yet emitted are held values too: never passed on, so not completed.
    if (!wasFinished) cancellation?.tally?.record(name, waiting.size + bufferedResults, runningCount);
    finish(cancellation);
    if (wasFinished && runningCount === 0) return;
    let next = firstRunning;
    firstRunning = lastRunning = undefined;
    runningCount = 0;
    while (next !== undefined) {
      const task = next;
      next = task.after;
      task.before = task.after = undefined;
      task.retryTimer?.unsubscribe();
      task.retryTimer = undefined;
      task.done = true;
      // A resolved promise whose result is being delivered as take(n) ends has no work to stop.
      if (!task.resolved) task.controller?.abort(new CancelledError(name, reason, cause));
      const subscription = task.subscription;
      task.subscription = undefined;
      subscription?.unsubscribe();
    }
    discarded += waiting.size + bufferedResults;
    bufferedResults = 0;
    waiting.clear();
    window$.clear();
    unorderedResults.clear();
    monitor?.notify();
  }

  function connect(): void {
    if (typeof config.concurrency !== 'number') {
      concurrencySub = config.concurrency.subscribe({
        next: (n) => {
          if (typeof n !== 'number' || Number.isNaN(n) || n === Infinity) {
            // Unbounded concurrency is the bug this operator exists to prevent (BP-03).
            fail(optionRangeError(name, 'concurrency', 'an Observable of finite numbers', n), 'source-failed');
            return;
          }
          concurrency = Math.max(1, Math.floor(n)); // the floor: an adaptive limiter must never reach 0
          sink.schedulePump();
        },
        error: (err: unknown) => fail(err, 'source-failed'),
        complete: () => {
          if (concurrency === 0) {
            fail(optionRangeError(name, 'concurrency', 'an Observable that emits a number', 'none'), 'source-failed');
          }
        },
      });
      // A bad first value fails the pool inside subscribe(), before the subscription was held.
      if (finished) {
        concurrencySub.unsubscribe();
        concurrencySub = undefined;
        return;
      }
    }
    const up = upstreamOf(pullable);
    upstream = up;
    // Ask before connecting, so a synchronous source behind the push queue feeds the workers
    // directly instead of filling (and overflowing) the queue before the first request.
    const initial = ordered ? Math.min(concurrency, window) : concurrency;
    outstanding = initial;
    up.connect({ next: onValue, error: onSourceError, complete: onSourceComplete }, initial);
    sink.schedulePump();
  }

  return {
    pump,
    connect,
    teardown(cancellation) {
      release(cancellation?.reason ?? 'unsubscribed', undefined, cancellation);
    },
  };
}
