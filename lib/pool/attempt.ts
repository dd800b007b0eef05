import { Observable, from, type ObservableInput } from 'rxjs';
import { reportUnhandled, returnTypeError } from '../core/errors.js';
import type { Work } from './types.js';
import { COMPLETED, FAILED, RUNNING, TaskContext, type Task } from './task.js';

/** What an attempt reports to its pool. */
export interface AttemptHost<T, R> {
  onResult(task: Task<T, R>, result: R): void;
  onTaskComplete(task: Task<T, R>): void;
  onTaskError(task: Task<T, R>, err: unknown): void;
}

/**
 * Runs attempts of a pool's work: calls the worker, follows what it returned, and reports the
 * outcome only after the inner's own teardown, so a slot is released once the work's resources
 * are (mergeMap does so for a completion; an inner's error it delivers first). One per pool.
 */
export class Attempts<T, R> {
  /** How many attempts are on the stack: a worker, or a synchronous inner, running now. */
  depth = 0;
  // The inner is subscribed through one shared wrapper so that (1) its subscriber is in hand
  // before a synchronous inner emits, and unsubscribing it stops the burst, and (2) the outcome
  // is acted on after the inner's teardown. The wrapper's subscribe function runs at once inside
  // subscribe(), so the task and its inner are handed over in two fields.
  private entering: Task<T, R> | undefined = undefined;
  private enteringInput: Observable<R> | undefined = undefined;
  private readonly gate: Observable<R>;

  constructor(
    private readonly name: string,
    private readonly work: Work<T, R>,
    private readonly host: AttemptHost<T, R>,
    /** The pool has a `timeout`: an attempt may end before its promise settles. */
    private readonly timed: boolean,
  ) {
    this.gate = new Observable<R>((subscriber) => this.enter(subscriber));
  }

  /** Starts the next attempt of `task`. */
  run(task: Task<T, R>): void {
    this.depth++;
    try {
      this.start(task);
    } finally {
      this.depth--;
    }
  }

  private start(task: Task<T, R>): void {
    task.attempt++;
    const token = ++task.token;
    task.outcome = RUNNING;
    let output: ObservableInput<R>;
    try {
      output = this.work(task.value, new TaskContext(task, task.attempt));
    } catch (err) {
      this.host.onTaskError(task, err);
      return;
    }
    // Most workers are async functions: a native Promise needs no Observable around it, and a
    // subscription to it could only ignore its result, which the task's `done` flag does too.
    if (output instanceof Promise) {
      if (this.timed) this.followTimed(output as Promise<R>, task, token);
      else this.follow(output as Promise<R>, task);
      return;
    }
    // The worker may have ended the pool while it ran (it pushed into the source, and that value
    // failed fast or completed a take(n) downstream): the value was counted aborted then, and an
    // inner subscribed now would never be let go.
    if (task.done) return;
    let input: Observable<R>;
    try {
      input = this.toObservable(output, task.index);
    } catch (err) {
      this.host.onTaskError(task, err);
      return;
    }
    this.entering = task;
    this.enteringInput = input;
    this.gate.subscribe(task);
  }

  private enter(subscriber: import('rxjs').Subscriber<R>): void {
    const task = this.entering!;
    const input = this.enteringInput!;
    this.entering = this.enteringInput = undefined;
    task.subscription = subscriber;
    try {
      input.subscribe(subscriber);
    } catch (err) {
      // Only under RxJS's deprecated synchronous error handling does subscribe() throw; the
      // task must still fail and free its slot.
      subscriber.error(err);
    }
    // A synchronous inner has ended, and its teardown has run, by now: no finalizer is needed.
    if (subscriber.closed) this.innerEnded(task);
    else subscriber.add(() => this.innerEnded(task));
  }

  /**
   * Makes `task`'s own pair of promise callbacks, kept for as long as the task is reused: without
   * a timeout an attempt ends only when its promise settles, so the settlement is always the
   * running attempt's.
   */
  private bind(task: Task<T, R>): void {
    task.fulfil = (result: R) => this.promiseSettled(task, task.token, false, result);
    task.reject = (err: unknown) => this.promiseSettled(task, task.token, true, err);
  }

  /** Follows the running attempt's promise with the task's own callbacks (no timeout). */
  private follow(output: Promise<R>, task: Task<T, R>): void {
    if (task.fulfil === undefined) this.bind(task);
    // Settlement is handled by the callbacks; `then` returns a promise nobody needs.
    void output.then(task.fulfil, task.reject);
  }

  /** With a timeout, a timed-out attempt's promise may settle later: its callbacks carry its token. */
  private followTimed(output: Promise<R>, task: Task<T, R>, token: number): void {
    output.then(
      (result) => this.promiseSettled(task, token, false, result),
      (err: unknown) => this.promiseSettled(task, token, true, err),
    );
  }

  private promiseSettled(task: Task<T, R>, token: number, rejected: boolean, outcome: unknown): void {
    if (token !== task.token) return; // an attempt that timed out: its outcome is moot
    // Nobody is subscribed to the promise to take a throw from here (a downstream callback,
    // say): report it as RxJS reports one, never as an unhandled rejection.
    try {
      if (rejected) {
        this.host.onTaskError(task, outcome);
        return;
      }
      task.resolved = true;
      try {
        this.host.onResult(task, outcome as R);
      } catch (err) {
        // The consumer's problem, not the work's: the value is done and its slot must be freed.
        reportUnhandled(err);
      }
      this.host.onTaskComplete(task);
    } catch (err) {
      reportUnhandled(err);
    }
  }

  private innerEnded(task: Task<T, R>): void {
    const outcome = task.outcome;
    if (outcome === RUNNING) return; // unsubscribed: the pool's release has dealt with the task
    if (outcome === FAILED) {
      const extra = task.more();
      const err = extra.failure;
      extra.failure = undefined;
      this.host.onTaskError(task, err);
    } else if (outcome === COMPLETED) {
      this.host.onTaskComplete(task);
    }
  }

  private toObservable(input: ObservableInput<R>, index: number): Observable<R> {
    try {
      return from(input);
    } catch {
      throw returnTypeError(
        this.name,
        'work',
        `an ObservableInput (Observable, Promise, array, iterable, async iterable) for value #${index}`,
        input,
      );
    }
  }
}
