// The work every implementation does, and the sources it reads, so that only the plumbing differs.
import { Observable, type Subscription } from 'rxjs';
import type { Probe } from './harness.js';

/** A fast producer: a plain synchronous generator of 0..n-1 (pulled by whoever consumes it). */
export function* numbers(n: number): Generator<number, void, undefined> {
  for (let i = 0; i < n; i++) yield i;
}

/** The same numbers behind an async generator: the for-await floor. */
// eslint-disable-next-line @typescript-eslint/require-await -- an async generator with nothing to await is the point
export async function* asyncNumbers(n: number): AsyncGenerator<number, void, undefined> {
  for (let i = 0; i < n; i++) yield i;
}

/** Slow asynchronous work, microtask flavour: one `await` of a resolved promise, then the value. */
export async function promiseWork(x: number): Promise<number> {
  await Promise.resolve();
  return x;
}

/**
 * The cheapest asynchronous work: an already resolved promise (`x => Promise.resolve(x)`), the
 * work of issue 12's floor targets and of examples/measure-mergemap.ts. What is left is plumbing.
 */
export function resolvedWork(x: number): Promise<number> {
  return Promise.resolve(x);
}

/**
 * Slow asynchronous work, macrotask flavour: the value comes back on the next turn of the event
 * loop (setImmediate). setTimeout(0) is clamped to 1 ms in Node, which would make 10^5 items at
 * concurrency 4 take 25 s of sleeping per run and measure the timer, not the plumbing.
 */
export function timerWork(x: number): Promise<number> {
  return new Promise((resolve) => setImmediate(resolve, x));
}

/**
 * Work whose duration varies (1 to 4 microtask hops, by `x & 3`), so values finish out of input
 * order and an ordered operator has to hold results back.
 */
export async function jitterWork(x: number): Promise<number> {
  for (let k = x & 3; k > 0; k--) await Promise.resolve();
  await Promise.resolve();
  return x;
}

/**
 * Subscribes with a plain observer, feeds every value to the probe, and settles on the terminal
 * signal. A probe that throws (the run went past its deadline) unsubscribes and rejects, rather
 * than letting RxJS report the throw as an unhandled error.
 */
export function drain<T>(source: Observable<T>, take: (value: T) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    let subscription: Subscription | undefined = undefined;
    subscription = source.subscribe({
      next(value) {
        if (failed) return;
        try {
          take(value);
        } catch (err) {
          failed = true;
          subscription?.unsubscribe();
          reject(err);
        }
      },
      error: reject,
      complete: () => resolve(),
    });
    if (failed) subscription.unsubscribe();
  });
}

/** Consumes an async iterable into the probe. */
export async function drainIterable(iterable: AsyncIterable<number>, probe: Probe): Promise<void> {
  for await (const value of iterable) probe.take(value);
}
