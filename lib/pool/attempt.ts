import { from, type Observable, type ObservableInput } from 'rxjs';
import { PushSubscriber } from '../core/push-subscriber.js';
import { reportUnhandled, returnTypeError } from '../core/errors.js';
import type { Work } from './types.js';
import { TaskContext, type Task, type TaskHost } from './task.js';

/**
 * Runs attempts of a pool's work: calls the worker, follows what it returned, and reports the
 * outcome only after the inner's own teardown, so a slot is released once the work's resources
 * are (mergeMap does so for a completion; an inner's error it delivers first). One per pool.
 */
export class Attempts<T, R> {
  /** How many attempts are on the stack: a worker, or a synchronous inner, running now. */
  depth = 0;

  constructor(
    private readonly name: string,
    private readonly work: Work<T, R>,
    private readonly host: TaskHost<R>,
    /** The pool has a `timeout`: an attempt may end before its promise settles. */
    private readonly timed: boolean,
  ) {}

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
    this.subscribeInner(task, output);
  }

  /** Follows what the worker returned that is not a native Promise. */
  private subscribeInner(task: Task<T, R>, output: ObservableInput<R>): void {
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
    // The task's own subscriber, in hand before a synchronous inner emits, so unsubscribing it
    // stops the burst; it tells the task how the inner ended only after the inner's teardown, so
    // a slot is freed once the work's resources are (lib/core/push-subscriber.ts).
    const subscriber = new PushSubscriber<R>(task);
    task.subscription = subscriber;
    subscriber.subscribeTo(input);
  }

  /**
   * Makes `task`'s own pair of promise callbacks, kept for as long as the task is reused: without
   * a timeout an attempt ends only when its promise settles, so the settlement is always the
   * running attempt's.
   */
  private bind(task: Task<T, R>): void {
    task.fulfil = (result: R) => this.fulfilled(task, result);
    task.reject = (err: unknown) => this.rejected(task, err);
  }

  /** Follows the running attempt's promise with the task's own callbacks (no timeout). */
  private follow(output: Promise<R>, task: Task<T, R>): void {
    if (task.fulfil === undefined) this.bind(task);
    // Settlement is handled by the callbacks; `then` returns a promise nobody needs.
    void output.then(task.fulfil, task.reject);
  }

  /** With a timeout, a timed-out attempt's promise may settle later: its callbacks carry its token. */
  private followTimed(output: Promise<R>, task: Task<T, R>, token: number): void {
    // An attempt that timed out has a stale token: its outcome is moot.
    output.then(
      (result) => {
        if (token === task.token) this.fulfilled(task, result);
      },
      (err: unknown) => {
        if (token === task.token) this.rejected(task, err);
      },
    );
  }

  // Nobody is subscribed to the promise to take a throw from the two below (a downstream
  // callback, say): it is reported as RxJS reports one, never as an unhandled rejection. Two
  // functions, not one with a flag: the fulfilled one runs per value, and the smaller it is, the
  // more of the pool's path V8 inlines into it.

  private fulfilled(task: Task<T, R>, result: R): void {
    task.resolved = true;
    try {
      this.host.onResult(task, result);
    } catch (err) {
      // The consumer's problem, not the work's: the value is done and its slot must be freed.
      reportUnhandled(err);
    }
    try {
      this.host.onTaskComplete(task);
    } catch (err) {
      reportUnhandled(err);
    }
  }

  private rejected(task: Task<T, R>, err: unknown): void {
    try {
      this.host.onTaskError(task, err);
    } catch (thrown) {
      reportUnhandled(thrown);
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
