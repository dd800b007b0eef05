import { ClosedError, OverflowError, optionTypeError } from '../lib/core/errors.js';
import { demandSource, type ProducerSink } from '../lib/core/producer.js';
import type { DemandObservable } from '../lib/core/protocol.js';
import { RingBuffer } from '../lib/queue/ring-buffer.js';
import { optionalPositiveInteger, optionsObject, positiveInteger } from '../lib/core/validate.js';

const NAME = 'channel';

/** The options of {@link channel}; `capacity` is required. */
export interface ChannelOptions {
  /** How many sent values may wait for a consumer; an integer >= 1. */
  capacity: number;
  /**
   * How many `send` calls may wait at once for room (default 1024). One more rejects with an
   * OverflowError: the waiting senders are a queue too, and it is bounded like every other.
   */
  maxPendingSends?: number | undefined;
}

/** The options of one {@link Channel.send}. */
export interface SendOptions {
  /** Aborting it withdraws a waiting send: the promise rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/** A bounded, closable queue between producers (send) and demand-aware consumers. */
export interface Channel<T> {
  /**
   * Offers a value. Resolves once the channel has accepted it (there was room, or room was made
   * by a consumer); waits while the channel is full. Rejects with {@link ClosedError} when the
   * channel is or becomes closed before accepting it, and with the signal's reason when aborted.
   */
  send(value: T, options?: SendOptions): Promise<void>;
  /** Offers a value without waiting: true if accepted, false if the channel is full or closed. */
  trySend(value: T): boolean;
  /** Stops accepting values; idempotent. Values already accepted still reach consumers. */
  close(): void;
  /** True after close(). */
  readonly closed: boolean;
  /** Values accepted and not yet delivered. */
  readonly size: number;
  /** Senders waiting for room. */
  readonly pendingSends: number;
  /** The consumer side: demand-aware; each value goes to exactly one subscriber. */
  readonly observable: DemandObservable<T>;
}

interface Waiter<T> {
  value: T;
  resolve: () => void;
  reject: (reason: unknown) => void;
  release: () => void;
  prev: Waiter<T> | undefined;
  next: Waiter<T> | undefined;
}

/**
 * A Go channel done right: bounded, closable, cancellable, and a demand-aware source.
 *
 * ![channel: a send waits while the channel is full](../docs/diagrams/channel-send-waits.svg)
 *
 * `send` waits while the channel is full (the producer is paused by the consumer's demand);
 * `trySend` never waits, for callers that must shed load instead (an HTTP handler answering
 * 503). `close()` is idempotent: values already accepted are still delivered, then every
 * subscriber completes, and waiting senders reject with {@link ClosedError}. A send waiting
 * for room can be withdrawn with an AbortSignal, so a blocked producer never leaks.
 *
 * The observable has work-queue semantics: with several subscribers, each value goes to exactly
 * one of them (round-robin among those with demand); a late subscriber gets only what is left.
 * A value handed to a subscriber is gone from the channel, even if that subscriber then
 * unsubscribes.
 *
 * Failure modes guarded against: a blocked producer leak on cancel (PP-05, ML-05), sending to a
 * closed channel (BP-10), double close (BP-05, WP-09), blocking where one must reject (PP-12,
 * BP-06: `trySend` answers at once).
 *
 * ## Example
 * ```ts
 * const jobs = channel<Job>({ capacity: 100 });
 * jobs.observable.pipe(mergeWorkers(run, { concurrency: 4 })).subscribe();
 * await jobs.send(job, { signal }); // waits while 100 jobs are queued
 * if (!jobs.trySend(job)) res.writeHead(503).end();
 * ```
 *
 * @see {@link fromPull}, {@link boundedBuffer}
 * @param options Capacity and the limit of waiting senders.
 * @return A channel.
 */
export function channel<T>(options: ChannelOptions): Channel<T> {
  const opts = optionsObject<ChannelOptions>(NAME, options, true, ['capacity', 'maxPendingSends']);
  const capacity = positiveInteger(NAME, 'capacity', opts.capacity);
  const maxPendingSends = optionalPositiveInteger(NAME, 'maxPendingSends', opts.maxPendingSends, 1024);

  const queue = new RingBuffer<T>(capacity);
  const consumers: ProducerSink<T>[] = [];
  let nextConsumer = 0;
  let closed = false;
  let waitersHead: Waiter<T> | undefined;
  let waitersTail: Waiter<T> | undefined;
  let waiting = 0;
  let delivering = false;
  let again = false;

  function enqueueWaiter(waiter: Waiter<T>): void {
    waiter.prev = waitersTail;
    if (waitersTail === undefined) waitersHead = waiter;
    else waitersTail.next = waiter;
    waitersTail = waiter;
    waiting++;
  }

  function removeWaiter(waiter: Waiter<T>): void {
    if (waiter.prev === undefined) waitersHead = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) waitersTail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = waiter.next = undefined;
    waiting--;
    waiter.release();
  }

  /** Moves waiting senders into freed slots, oldest first. */
  function admitWaiters(): void {
    while (waitersHead !== undefined && !queue.isFull) {
      const waiter = waitersHead;
      removeWaiter(waiter);
      queue.push(waiter.value);
      waiter.resolve();
    }
  }

  function pickConsumer(): ProducerSink<T> | undefined {
    for (let i = 0; i < consumers.length; i++) {
      const index = (nextConsumer + i) % consumers.length;
      const consumer = consumers[index];
      if (consumer !== undefined && consumer.demand > 0) {
        nextConsumer = (index + 1) % consumers.length;
        return consumer;
      }
    }
    return undefined;
  }

  /** Hands queued values to consumers with demand; re-entrancy safe (send or request in next). */
  function deliver(): void {
    if (delivering) {
      again = true;
      return;
    }
    delivering = true;
    try {
      do {
        again = false;
        while (!queue.isEmpty) {
          const consumer = pickConsumer();
          if (consumer === undefined) break;
          const value = queue.shift();
          admitWaiters();
          consumer.next(value);
        }
        if (closed && queue.isEmpty) completeAll();
      } while (again);
    } finally {
      delivering = false;
    }
  }

  function completeAll(): void {
    for (const consumer of consumers.splice(0)) consumer.complete();
  }

  function trySend(value: T): boolean {
    if (closed || !queue.push(value)) return false;
    deliver();
    return true;
  }

  function send(value: T, sendOptions?: SendOptions): Promise<void> {
    try {
      optionsObject<SendOptions>(`${NAME}.send`, sendOptions, false, ['signal']);
    } catch (err) {
      return Promise.reject(err);
    }
    const signal = sendOptions?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(optionTypeError(`${NAME}.send`, 'signal', 'an AbortSignal', signal));
    }
    if (closed) return Promise.reject(new ClosedError(NAME));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (waitersHead === undefined && trySend(value)) return Promise.resolve();
    if (waiting >= maxPendingSends)
      return Promise.reject(new OverflowError(NAME, maxPendingSends, 'max-pending-sends'));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter<T> = { value, resolve, reject, release: noop, prev: undefined, next: undefined };
      if (signal !== undefined) {
        const onAbort = (): void => {
          removeWaiter(waiter);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.release = () => signal.removeEventListener('abort', onAbort);
      }
      enqueueWaiter(waiter);
    });
  }

  function close(): void {
    if (closed) return;
    closed = true;
    while (waitersHead !== undefined) {
      const waiter = waitersHead;
      removeWaiter(waiter);
      waiter.reject(new ClosedError(NAME));
    }
    deliver();
  }

  const observable = demandSource<T>(NAME, (sink) => {
    if (closed && queue.isEmpty) {
      sink.complete();
      return { pump: noop, teardown: noop };
    }
    consumers.push(sink);
    return {
      pump: deliver,
      teardown() {
        const index = consumers.indexOf(sink);
        if (index >= 0) {
          consumers.splice(index, 1);
          // Keep the round-robin pointer on the same next consumer after the removal.
          if (index < nextConsumer) nextConsumer--;
        }
      },
    };
  });

  return {
    send,
    trySend,
    close,
    get closed() {
      return closed;
    },
    get size() {
      return queue.size;
    },
    get pendingSends() {
      return waiting;
    },
    observable,
  };
}

function noop(): void {}
