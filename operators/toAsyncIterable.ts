import { isObservable, type Observable } from 'rxjs';
import { optionTypeError } from '../lib/core/errors.js';
import { demandProtocolOf } from '../lib/core/protocol.js';
import { PullIterator } from '../lib/queue/pull-iterator.js';
import { optionalMonitor, optionalPositiveInteger, optionsObject } from '../lib/core/validate.js';
import type { BufferStats, DropEvent } from '../lib/queue/bounded-queue.js';
import { pausableOf } from '../lib/queue/absorb.js';
import { Monitor } from '../lib/core/monitor.js';

const NAME = 'toAsyncIterable';
const POLICIES: readonly unknown[] = ['drop-newest', 'drop-oldest', 'error'];

/** The options of {@link toAsyncIterable}; all optional, and used only for a source that cannot be paused. */
export interface ToAsyncIterableOptions<T> {
  /**
   * For a push source only: how many values may wait for the loop (default 256). A
   * pausable source is pulled one value per iteration and needs no buffer.
   */
  capacity?: number | undefined;
  /** For a push source only: what a full buffer does (default `'error'`; `'block'` is refused). */
  overflow?: 'drop-newest' | 'drop-oldest' | 'error' | undefined;
  /** For a push source only: called with each dropped value. */
  onDrop?: ((value: T, event: DropEvent) => void) | undefined;
  /** For a push source only: the buffer's counters (see bufferMonitor()). */
  monitor?: Monitor<BufferStats> | undefined;
}

/**
 * `for await` over an Observable, without an unbounded buffer.
 *
 * From a pausable source (fromPull, channel, boundedBuffer, mergeWorkers, ...) it requests
 * one value per iteration: lossless, and nothing is produced ahead of the loop. From a push
 * source it keeps at most `capacity` values and applies the overflow policy, counting drops.
 * The subscription starts at the first iteration; `break` (or `return`) unsubscribes; an
 * error is thrown inside the loop.
 *
 * Failure modes guarded against: a for-await sink that buffers without bound (PP-04, BP-01),
 * a consumer that stops early and leaves the producer running (WP-08).
 *
 * ## Example
 * ```ts
 * for await (const row of toAsyncIterable(fromPull(cursor))) await write(row);
 * ```
 *
 * @see {@link fromPull}, {@link boundedBuffer}
 * @param source Any Observable.
 * @param options Buffering for push sources.
 * @return An async iterable iterator of the source's values.
 */
export function toAsyncIterable<T>(
  source: Observable<T>,
  options?: ToAsyncIterableOptions<T>,
): AsyncIterableIterator<T> {
  if (!isObservable(source)) throw optionTypeError(NAME, 'source', 'an Observable', source);
  const opts = optionsObject<ToAsyncIterableOptions<T>>(NAME, options, false, [
    'capacity',
    'overflow',
    'onDrop',
    'monitor',
  ]);
  const capacity = optionalPositiveInteger(NAME, 'capacity', opts.capacity, 256);
  // Not the shared policy check: its message would offer 'block', which a loop cannot honour.
  const overflow = opts.overflow === undefined ? 'error' : opts.overflow;
  if (!POLICIES.includes(overflow)) {
    throw optionTypeError(NAME, 'overflow', "'drop-newest', 'drop-oldest' or 'error'", overflow);
  }
  if (opts.onDrop !== undefined && typeof opts.onDrop !== 'function') {
    throw optionTypeError(NAME, 'onDrop', 'a function', opts.onDrop);
  }
  const monitor = optionalMonitor<BufferStats>(NAME, opts.monitor, 'bufferMonitor');
  const pausable = pausableOf(source, {
    name: NAME,
    capacity,
    overflow,
    onDrop: opts.onDrop,
    monitor,
    delayError: true,
  });
  return new PullIterator<T>(demandProtocolOf(pausable)!);
}
