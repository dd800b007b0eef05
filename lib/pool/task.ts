import type { Subscription } from 'rxjs';
import type { PushSubscriber } from '../core/push-subscriber.js';
import type { Deque } from '../queue/deque.js';
import type { WorkContext } from './types.js';

/** Where a task's attempts and inner report: the pool, shared by all its tasks. */
export interface TaskHost<R> {
  onResult(task: Task<unknown, R>, result: R): void;
  onTaskComplete(task: Task<unknown, R>): void;
  onTaskError(task: Task<unknown, R>, err: unknown): void;
}

/**
 * Where a value is in the pool (docs/design.md, "The conservation law"). Every task is in exactly
 * one of these; the last four are final. Plain numbers, not an enum: compared on the hot path.
 */
export const QUEUED = 0;
export const IN_FLIGHT = 1;
export const HELD = 2;
export const DONE_COMPLETED = 3;
export const DONE_FAILED = 4;
export const DONE_ABORTED = 5;
export const DONE_DISCARDED = 6;

/**
 * One accepted value, from acceptance to the delivery of its last result; once completed, reused
 * for a later value (`reuse`). A class, not a literal with closures: the pool reads one per value,
 * and as the observer of its own inner it saves the three callbacks each attempt would otherwise
 * allocate.
 */
export class Task<T, R> {
  state = QUEUED;
  attempt = 0;
  /** Ordered mode: results waiting until this task is the head (made on the first one). */
  results: Deque<R> | undefined = undefined;
  /** Unordered mode: how many of this task's results wait in the pool's shared buffer. */
  pending = 0;
  /** The work is over (finished, failed for good or cancelled): nothing it does counts any more. */
  done = false;
  /** The work's promise has resolved: nothing is left running to abort, even mid-delivery. */
  resolved = false;
  /** The running attempt's inner subscription (not for a Promise: it has nothing to cancel). */
  subscription: PushSubscriber<R> | undefined = undefined;
  /**
   * Changes when an attempt starts and when one times out: a promise of an attempt that timed out
   * settles later with a stale token and is ignored.
   */
  token = 0;
  /**
   * How many of a drained segment's values this task stands for, not yet passed on with a
   * result (lib/core/ledger.ts); 0 once its first result has left or outside a drain.
   */
  weight = 0;
  /** Keyed concurrency: the value's key. */
  key: unknown = undefined;
  /** What only some pools or attempts need; made on first use (`more()`). */
  extra: TaskExtra | undefined = undefined;
  /** Neighbours in the pool's list of running tasks: O(1) in and out, no hashing. */
  before: Task<T, R> | undefined = undefined;
  after: Task<T, R> | undefined = undefined;

  /**
   * The callbacks of this task's promises, made on its first promise and kept while the task is
   * reused (a pool without `timeout`: only then is an attempt's promise the only thing that can
   * end it, so a settlement needs no token to tell which attempt it was for).
   */
  fulfil: ((result: R) => void) | undefined = undefined;
  reject: ((err: unknown) => void) | undefined = undefined;

  constructor(
    public value: T,
    public index: number,
    private readonly host: TaskHost<R>,
  ) {}

  /**
   * Makes a completed task stand for a new value, as if new: every field back to its start, but
   * the token, which moves on and only grows, so that nothing of the last value's attempts (a
   * timer, a promise) can pass for the new value's. The pool reuses a task only once nothing refers to it any more (lib/pool/engine.ts,
   * `recycle`).
   *
   * A completed task holds some fields at their start already: no result pending or held (its
   * `results` deque, if it has one, is empty and is kept for the next value), no inner
   * subscription, no weight, no `before` (out of the running list). Only the others are written:
   * this runs per value, inlined into the pool's path.
   */
  reuse(value: T, index: number): this {
    // A new token at once, not only when the new value starts: a timer of the last value must
    // not match while the new one waits in the queue or its key's lane.
    this.token++;
    this.value = value;
    this.index = index;
    this.state = QUEUED;
    this.attempt = 0;
    this.done = false;
    this.resolved = false;
    this.key = undefined;
    this.extra = undefined;
    this.after = undefined; // the spare list's link
    return this;
  }

  // The observer of its running attempt's inner, called by that attempt's subscriber only
  // (lib/core/push-subscriber.ts), which passes on the end once the inner's teardown has run.
  next(result: R): void {
    this.host.onResult(this, result);
  }

  error(err: unknown): void {
    this.host.onTaskError(this, err);
  }

  complete(): void {
    this.host.onTaskComplete(this);
  }

  /** The task's rarely used fields, made on the first call. */
  more(): TaskExtra {
    return (this.extra ??= new TaskExtra());
  }

  /** Whether none of its results waits to be delivered. */
  get delivered(): boolean {
    return this.pending === 0 && (this.results === undefined || this.results.isEmpty);
  }
}

/**
 * The fields of a task that only some attempts use: a signal, a retry's backoff, a timeout.
 * Apart from the task, which the pool makes per value: three fields fewer to allocate and fill
 * (24 B on a 64-bit heap without pointer compression, as Node's builds are),
 * and one shape for every task whatever the pool's options, so the sites that read tasks stay
 * monomorphic.
 */
export class TaskExtra {
  /** Made on the first read of `context.signal`: most workers never look, and it is not free. */
  controller: AbortController | undefined = undefined;
  /** The backoff before the next attempt. */
  retryTimer: Subscription | undefined = undefined;
  /** The running attempt's `timeout`, when the pool has one. */
  timeoutTimer: Subscription | undefined = undefined;

  /** Stops the running attempt's timeout, if it has one. */
  cancelTimeout(): void {
    const timer = this.timeoutTimer;
    this.timeoutTimer = undefined;
    timer?.unsubscribe();
  }

  /** Stops both timers: the value's work is over. */
  cancelTimers(): void {
    this.cancelTimeout();
    const timer = this.retryTimer;
    this.retryTimer = undefined;
    timer?.unsubscribe();
  }
}

/** What a context reads of its task. */
interface ContextTask {
  readonly index: number;
  more(): TaskExtra;
}

/**
 * The context handed to a worker; its signal exists only once somebody asks for it. A separate
 * object, not the task itself: a worker that logs or serializes its context must not see (or
 * trip over the links between) the pool's bookkeeping, and `attempt` stays that attempt's.
 */
export class TaskContext implements WorkContext {
  readonly #task: ContextTask;
  /** The signal this context handed out: a timed-out attempt keeps its own aborted one. */
  #signal: AbortSignal | undefined = undefined;
  /**
   * The value's index, kept here: once the value has completed, its task may stand for another
   * value (a new index, as every value the pool takes has its own).
   */
  readonly #index: number;

  constructor(
    task: ContextTask,
    readonly attempt: number,
  ) {
    this.#task = task;
    this.#index = task.index;
  }

  get index(): number {
    return this.#index;
  }

  get signal(): AbortSignal {
    return (this.#signal ??= this.controller().signal);
  }

  /**
   * The value's controller (shared by its attempts, but for one that timed out), or, asked for
   * once its task stands for another value, one of its own that nothing will abort.
   */
  private controller(): AbortController {
    const task = this.#task;
    if (task.index !== this.#index) return new AbortController();
    return (task.more().controller ??= new AbortController());
  }
}
