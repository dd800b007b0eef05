import type { DemandHandle, DemandProtocol } from '../core/protocol.js';
import { Deque } from './deque.js';

interface Pending<T> {
  resolve(result: IteratorResult<T>): void;
  reject(err: unknown): void;
}

/**
 * An async iterator that pulls: one `request(1)` per call to `next()`, so nothing is produced
 * ahead of the loop. The subscription starts at the first `next()`; `return()` and `throw()`
 * cancel it; an error is thrown from the `next()` waiting for it, or from the next one.
 */
export class PullIterator<T> implements AsyncIterableIterator<T> {
  /** Calls to next() waiting for a value: one per request made, so bounded by the caller. */
  private readonly waiting = new Deque<Pending<T>>();
  private handle: DemandHandle | undefined = undefined;
  private subscribed = false;
  private done = false;
  /** An error that arrived while no next() was waiting: thrown by the next one. */
  private failure: { err: unknown } | undefined = undefined;

  constructor(private readonly protocol: DemandProtocol<T>) {}

  next(): Promise<IteratorResult<T>> {
    const failure = this.failure;
    if (failure !== undefined) {
      this.failure = undefined;
      return Promise.reject(failure.err);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.subscribed) {
        try {
          this.subscribe();
        } catch (err) {
          // A source that throws while subscribing fails this loop; the half-made subscription
          // must not linger for a later next() to wait on forever.
          this.fail(err);
          return;
        }
      }
      // The subscription may have ended synchronously inside subscribe().
      if (!this.done) this.handle?.request(1);
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.stop();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<T>> {
    this.stop();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private subscribe(): void {
    this.subscribed = true;
    const h = this.protocol.subscribe({
      start: (handle) => {
        this.handle = handle;
      },
      next: (value) => {
        if (!this.waiting.isEmpty) this.waiting.shift().resolve({ value, done: false });
      },
      error: (err) => this.fail(err),
      complete: () => {
        this.done = true;
        this.handle = undefined;
        this.finishWaiting();
      },
    });
    if (!this.done) this.handle ??= h;
  }

  private fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    this.cancel();
    if (this.waiting.isEmpty) this.failure = { err };
    else this.waiting.shift().reject(err);
    this.finishWaiting();
  }

  private stop(): void {
    this.done = true;
    // A failure nobody has read yet is moot once the loop has left.
    this.failure = undefined;
    this.cancel();
    this.finishWaiting();
  }

  private cancel(): void {
    const h = this.handle;
    this.handle = undefined;
    h?.cancel();
  }

  /** Every next() still waiting learns that the iteration is over. */
  private finishWaiting(): void {
    while (!this.waiting.isEmpty) this.waiting.shift().resolve({ value: undefined, done: true });
  }
}
