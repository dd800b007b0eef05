import type { Observable, Subscription } from 'rxjs';
import { optionRangeError } from '../core/errors.js';

/** What the concurrency source changes in its pool. */
export interface ConcurrencyHost {
  /** The pool has ended (possibly inside the subscription below). */
  readonly finished: boolean;
  setConcurrency(limit: number): void;
  failConcurrency(err: unknown): void;
}

/**
 * Follows a `concurrency` Observable: each value, floored at 1 (an adaptive limiter must never
 * reach 0 and stall the pool), becomes the pool's limit. A non-number, NaN or Infinity fails the
 * pool (unbounded concurrency is the bug the pool exists to prevent, BP-03), and so does an
 * Observable that completes without a value. Returns undefined when the pool ended during the
 * subscription, which is then already released.
 */
export function followConcurrency(
  name: string,
  limits: Observable<number>,
  host: ConcurrencyHost,
): Subscription | undefined {
  let seen = false;
  const subscription = limits.subscribe({
    next(n) {
      if (typeof n !== 'number' || Number.isNaN(n) || n === Infinity) {
        host.failConcurrency(optionRangeError(name, 'concurrency', 'an Observable of finite numbers', n));
        return;
      }
      seen = true;
      host.setConcurrency(Math.max(1, Math.floor(n)));
    },
    error: (err: unknown) => host.failConcurrency(err),
    complete() {
      if (!seen) {
        host.failConcurrency(optionRangeError(name, 'concurrency', 'an Observable that emits a number', 'none'));
      }
    },
  });
  // A bad first value fails the pool inside subscribe(), before the subscription was held.
  if (host.finished) {
    subscription.unsubscribe();
    return undefined;
  }
  return subscription;
}
