import type { Observable } from 'rxjs';
import { OverflowError, type OverflowPolicy } from '../core/errors.js';
import { Monitor } from '../core/monitor.js';
import { demandSource, type Producer, type ProducerSink } from '../core/producer.js';
import { demandProtocolOf, type Cancellation, type DemandObservable } from '../core/protocol.js';
import { upstreamOf, type Upstream } from '../core/upstream.js';
import { RingBuffer } from './ring-buffer.js';

/** Counters of one boundedBuffer subscription. */
export interface BufferStats {
  /** Values that arrived from upstream. */
  readonly received: number;
  /** Values handed downstream. */
  readonly emitted: number;
  /** Values dropped by the overflow policy (`drop-newest`, `drop-oldest`). */
  readonly dropped: number;
  /** Values thrown away when the stream errored or was unsubscribed: those still queued, and the one that overflowed under `error`. */
  readonly discarded: number;
  /** Values queued now. */
  readonly depth: number;
  /** The largest depth seen. */
  readonly highWater: number;
}

/** Why a value was dropped. */
export type DropReason = 'drop-newest' | 'drop-oldest' | 'error';

/** Passed to `onDrop` with every dropped value. */
export interface DropEvent {
  /** The operator that dropped it, e.g. `boundedBuffer` or `mergeWorkers`. */
  readonly operator: string;
  /** The policy that dropped it; `error` for values thrown away when the stream fails. */
  readonly reason: DropReason;
  /** The capacity of the queue that was full. */
  readonly capacity: number;
  /** The queue's counters at the moment of the drop. */
  readonly stats: BufferStats;
}

/**
 * A monitor for {@link boundedBuffer} and {@link toAsyncIterable}: `snapshot()` reads depth,
 * high-water mark and drops, and `changes` emits them as they change.
 *
 * @return A fresh monitor; pass it as the `monitor` option.
 */
export function bufferMonitor(): Monitor<BufferStats> {
  return new Monitor<BufferStats>(
    { received: 0, emitted: 0, dropped: 0, discarded: 0, depth: 0, highWater: 0 },
    'bufferMonitor',
  );
}

/** @internal The queue behind boundedBuffer, shared by every stage that must absorb a push source. */
export interface QueueConfig<T> {
  name: string;
  capacity: number;
  overflow: OverflowPolicy;
  onDrop: ((value: T, event: DropEvent) => void) | undefined;
  monitor: Monitor<BufferStats> | undefined;
  delayError: boolean;
}

/** The TypeError for `block` over a source that cannot be paused, with the fix in the message. */
export function notPausableError(operator: string): TypeError {
  return new TypeError(
    `${operator}: overflow 'block' needs a source that can be paused (channel(), fromPull(), or a ` +
      `library stage placed directly upstream), but the source is a plain Observable. A native ` +
      `operator such as map between two library stages drops the handshake: move that logic into ` +
      `the worker function or after the library stages, or choose 'drop-newest', 'drop-oldest' or 'error'.`,
  );
}

/** @internal */
export function boundedQueue<T>(source: Observable<T>, config: QueueConfig<T>): DemandObservable<T> {
  return demandSource<T>(config.name, (sink) => startQueue(source, config, sink));
}

function startQueue<T>(source: Observable<T>, config: QueueConfig<T>, sink: ProducerSink<T>): Producer {
  const { name, capacity, overflow, onDrop, monitor, delayError } = config;
  const block = overflow === 'block';
  if (block && demandProtocolOf(source) === undefined) {
    sink.error(notPausableError(name));
    return { pump() {}, teardown() {} };
  }

  const queue = new RingBuffer<T>(capacity);
  let upstream: Upstream<T> | undefined;
  let upstreamDone = false;
  let pendingError: { err: unknown } | undefined;
  let outstanding = 0; // requested from a pausable upstream and not yet received
  let received = 0;
  let emitted = 0;
  let dropped = 0;
  let discarded = 0;
  let highWater = 0;

  const stats = (): BufferStats => ({ received, emitted, dropped, discarded, depth: queue.size, highWater });
  monitor?.attach(stats);

  function drop(value: T, reason: DropReason): boolean {
    if (reason !== 'error') dropped++;
    if (onDrop === undefined) return true;
    try {
      onDrop(value, { operator: name, reason, capacity, stats: stats() });
      return true;
    } catch (err) {
      fail(err, false);
      return false;
    }
  }

  function emit(value: T): void {
    emitted++;
    sink.next(value);
  }

  function onValue(value: T): void {
    if (sink.closed) return;
    received++;
    if (outstanding !== Infinity && outstanding > 0) outstanding--;
    if (queue.isEmpty && sink.demand > 0) {
      // Passed straight on: nothing is queued, so a pump would find nothing to do. Only `block`
      // meters the source, so only it has anything to refill.
      emit(value);
      if (block) refill();
      monitor?.notify();
      return;
    }
    if (queue.push(value)) {
      if (queue.size > highWater) highWater = queue.size;
    } else {
      overflowed(value);
    }
    monitor?.notify();
    sink.schedulePump();
  }

  function overflowed(value: T): void {
    switch (overflow) {
      case 'drop-newest':
        drop(value, 'drop-newest');
        return;
      case 'drop-oldest': {
        const evicted = queue.shift();
        queue.push(value);
        drop(evicted, 'drop-oldest');
        return;
      }
      default:
        // 'error', or 'block' against an upstream that sent more than it was asked for.
        discarded++;
        if (onDrop !== undefined && !drop(value, 'error')) return;
        fail(new OverflowError(name, capacity, overflow), delayError);
    }
  }

  function onError(err: unknown): void {
    if (sink.closed) return;
    fail(err, delayError);
  }

  function onComplete(): void {
    if (sink.closed) return;
    upstreamDone = true;
    sink.schedulePump();
  }

  function fail(err: unknown, afterQueued: boolean): void {
    upstreamDone = true;
    upstream?.cancel();
    if (afterQueued) {
      pendingError ??= { err };
      sink.schedulePump();
      return;
    }
    discardQueued();
    sink.error(err);
  }

  function discardQueued(): void {
    while (!queue.isEmpty) {
      discarded++;
      const value = queue.shift();
      if (onDrop !== undefined) {
        try {
          onDrop(value, { operator: name, reason: 'error', capacity, stats: stats() });
        } catch {
          // Already failing: the first error is the one delivered.
        }
      }
    }
  }

  function connect(): void {
    const up = upstreamOf(source);
    upstream = up;
    up.connect({ next: onValue, error: onError, complete: onComplete });
    if (!up.pausable || sink.closed) return;
    if (!block) {
      outstanding = Infinity;
      up.request(Infinity);
    } else {
      refill();
    }
  }

  function refill(): void {
    if (!block || upstream === undefined || upstreamDone || outstanding === Infinity || sink.closed) return;
    if (sink.demand === Infinity) {
      // Nobody downstream can be overrun: stop metering the source.
      outstanding = Infinity;
      upstream.request(Infinity);
      return;
    }
    const room = capacity - queue.size - outstanding;
    if (room > 0) {
      outstanding += room;
      upstream.request(room);
    }
  }

  function pump(): void {
    while (sink.demand > 0 && !queue.isEmpty) emit(queue.shift());
    if (queue.isEmpty && upstreamDone && !sink.closed) {
      if (pendingError !== undefined) sink.error(pendingError.err);
      else sink.complete();
      return;
    }
    refill();
    monitor?.notify();
  }

  function teardown(cancellation?: Cancellation): void {
    cancellation?.tally?.record(name, queue.size, 0);
    upstream?.cancel(cancellation);
    upstream = undefined;
    discarded += queue.clear();
    monitor?.notify();
  }

  return { pump, teardown, connect };
}
