import type { MonoTypeOperatorFunction } from 'rxjs';
import type { OverflowPolicy } from '../lib/core/errors.js';
import type { Monitor } from '../lib/core/monitor.js';
import {
  optionalBoolean,
  optionalFunction,
  optionalMonitor,
  optionsObject,
  overflowPolicy,
  positiveInteger,
} from '../lib/core/validate.js';
import { boundedQueue, type BufferStats, type DropEvent, type QueueConfig } from '../lib/queue/bounded-queue.js';

export { bufferMonitor, type BufferStats, type DropEvent, type DropReason } from '../lib/queue/bounded-queue.js';

const NAME = 'boundedBuffer';

/** The options of {@link boundedBuffer}; `capacity` and `overflow` are required. */
export interface BoundedBufferOptions<T> {
  /** How many values may wait; an integer >= 1. */
  capacity: number;
  /**
   * What happens when a value arrives and the queue is full (docs/design.md, "Bounded queues and
   * overflow policies").
   */
  overflow: OverflowPolicy;
  /**
   * Called with each value the policy drops (and, on an immediate error, each queued value
   * thrown away). If it throws, the stream errors with what it threw.
   */
  onDrop?: ((value: T, event: DropEvent) => void) | undefined;
  /** Receives live counters; create one with {@link bufferMonitor}. */
  monitor?: Monitor<BufferStats> | undefined;
  /**
   * When upstream errors (or the `error` policy fires), deliver the values already queued first
   * (`true`), or error at once and count the queued values as discarded (`false`, the default,
   * as RxJS operators do).
   */
  delayError?: boolean | undefined;
}

/**
 * A bounded queue between a producer and a slower consumer, with an explicit overflow policy.
 *
 * ![boundedBuffer](../docs/diagrams/boundedBuffer-drop-oldest.svg)
 *
 * Values wait in a ring buffer of `capacity` slots until downstream asks for them. A library
 * stage downstream (mergeWorkers, toAsyncIterable, ...) pulls through the demand handshake; an
 * ordinary subscriber asks for everything, so values pass straight through.
 * It therefore bounds only against a library stage downstream: in a UI put {@link paceDemand}
 * last, on a server a pool or a stream sink (writeTo, {@link toReadableStream}), in a script
 * {@link toAsyncIterable} (docs/adapters.md).
 *
 * What a full queue does with the next value:
 * - `drop-newest`: drops the arriving value; the queue is unchanged.
 * - `drop-oldest`: evicts the head to make room for it.
 * - `error`: errors with an {@link OverflowError} naming the operator, capacity and policy.
 * - `block`: never lets the queue fill: it asks a pausable upstream for only as many values as
 *   there is room for. Against a plain Observable, subscribing fails at once with a TypeError
 *   that says how to fix the pipeline.
 *
 * With `drop-*` or `error` a pausable upstream is asked for everything (the policy, not the
 * source, decides); with `block` it is asked for free slots only. Credit is released when a
 * value leaves the queue.
 *
 * Every drop is counted (`monitor`) and reported (`onDrop`); nothing is lost silently.
 *
 * Failure modes guarded against: unbounded queues (BP-01, PP-04, ML-01), a huge buffer hiding
 * unboundedness (BP-02, ML-06), drops without a metric (BP-07), drop-oldest that spins (BP-17).
 *
 * ## Example
 * ```ts
 * clicks$.pipe(boundedBuffer({ capacity: 100, overflow: 'drop-oldest', onDrop: () => metrics.drop() }))
 * ```
 *
 * @see {@link mergeWorkers}, {@link toAsyncIterable}, {@link channel}
 * @param options Capacity, policy, drop callback, monitor and error ordering.
 * @return A function that returns a pausable Observable of the source's values.
 */
export function boundedBuffer<T>(options: BoundedBufferOptions<T>): MonoTypeOperatorFunction<T> {
  const opts = optionsObject<BoundedBufferOptions<T>>(NAME, options, true, [
    'capacity',
    'overflow',
    'onDrop',
    'monitor',
    'delayError',
  ]);
  const capacity = positiveInteger(NAME, 'capacity', opts.capacity);
  const overflow = overflowPolicy(NAME, 'overflow', opts.overflow);
  const onDrop = optionalFunction<NonNullable<BoundedBufferOptions<T>['onDrop']>>(NAME, 'onDrop', opts.onDrop);
  const monitor = optionalMonitor<BufferStats>(NAME, opts.monitor, 'bufferMonitor');
  const delayError = optionalBoolean(NAME, 'delayError', opts.delayError);
  const config: QueueConfig<T> = { name: NAME, capacity, overflow, onDrop, monitor, delayError };
  return (source) => boundedQueue(source, config);
}
