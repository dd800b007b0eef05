import { ClosedError, OverflowError, optionTypeError } from '../lib/core/errors.js';
import { demandSource, type Producer, type ProducerSink } from '../lib/core/producer.js';
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

/** A `send` waiting for room; it holds its value until a slot frees up or it is withdrawn. */
interface Waiter<T> {
  value: T;
  resolve: () => void;
  reject: (reason: unknown) => void;
  /** Removes the abort listener, if any: a settled send must not keep its signal's listener. */
  release: () => void;
  prev: Waiter<T> | undefined;
  next: Waiter<T> | undefined;
}

/**
 * The senders waiting for room, oldest first. A doubly linked list: an aborted send leaves from
 * the middle in O(1), and the list is bounded by `maxPendingSends`.
 */
class WaitingSenders<T> {
  head: Waiter<T> | undefined = undefined;
  private tail: Waiter<T> | undefined = undefined;
  size = 0;

  push(waiter: Waiter<T>): void {
    waiter.prev = this.tail;
    if (this.tail === undefined) this.head = waiter;
    else this.tail.next = waiter;
    this.tail = waiter;
    this.size++;
  }

  remove(waiter: Waiter<T>): void {
    if (waiter.prev === undefined) this.head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = waiter.next = undefined;
    this.size--;
    waiter.release();
  }
}

/**
 * The state of one channel and one method per change to it: a value sent, a waiting send
 * admitted or withdrawn, values handed to consumers, a consumer joining or leaving, the close.
 */
class ChannelCore<T> {
  private readonly queue: RingBuffer<T>;
  private readonly consumers: ProducerSink<T>[] = [];
  /** Round-robin position among the consumers. */
  private nextConsumer = 0;
  readonly waiters = new WaitingSenders<T>();
  closed = false;
  /** True while handing values out: a re-entrant deliver (a send or request from a consumer's next) sets `again`. */
  private delivering = false;
  private again = false;

  constructor(
    capacity: number,
    private readonly maxPendingSends: number,
  ) {
    this.queue = new RingBuffer<T>(capacity);
  }

  get size(): number {
    return this.queue.size;
  }

  trySend(value: T): boolean {
    if (this.closed || !this.queue.push(value)) return false;
    this.deliver();
    return true;
  }

  send(value: T, options: SendOptions | undefined): Promise<void> {
    let signal: AbortSignal | undefined;
    try {
      signal = sendSignal(options);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.closed) return Promise.reject(new ClosedError(NAME));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.waiters.head === undefined && this.trySend(value)) return Promise.resolve();
    if (this.waiters.size >= this.maxPendingSends) {
      return Promise.reject(new OverflowError(NAME, this.maxPendingSends, 'max-pending-sends'));
    }
    return new Promise<void>((resolve, reject) =>
      this.wait({ value, resolve, reject, release: noop, prev: undefined, next: undefined }, signal),
    );
  }

  /** Queues a send for room; an abort of its signal withdraws it with the signal's reason. */
  private wait(waiter: Waiter<T>, signal: AbortSignal | undefined): void {
    if (signal !== undefined) {
      const onAbort = (): void => {
        this.waiters.remove(waiter);
        waiter.reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiter.release = () => signal.removeEventListener('abort', onAbort);
    }
    this.waiters.push(waiter);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    while (this.waiters.head !== undefined) {
      const waiter = this.waiters.head;
      this.waiters.remove(waiter);
      waiter.reject(new ClosedError(NAME));
    }
    this.deliver();
  }

  /** Moves waiting senders into freed slots, oldest first. */
  private admitWaiters(): void {
    while (this.waiters.head !== undefined && !this.queue.isFull) {
      const waiter = this.waiters.head;
      this.waiters.remove(waiter);
      this.queue.push(waiter.value);
      waiter.resolve();
    }
  }

  private pickConsumer(): ProducerSink<T> | undefined {
    const { consumers } = this;
    for (let i = 0; i < consumers.length; i++) {
      const index = (this.nextConsumer + i) % consumers.length;
      const consumer = consumers[index];
      if (consumer !== undefined && consumer.demand > 0) {
        this.nextConsumer = (index + 1) % consumers.length;
        return consumer;
      }
    }
    return undefined;
  }

  /** Hands queued values to consumers with demand; re-entrancy safe (send or request in next). */
  deliver(): void {
    if (this.delivering) {
      this.again = true;
      return;
    }
    this.delivering = true;
    try {
      do {
        this.again = false;
        this.handOut();
        if (this.closed && this.queue.isEmpty) this.completeAll();
      } while (this.again);
    } finally {
      this.delivering = false;
    }
  }

  /** One pass: each queued value to the next consumer with demand, refilling from waiting sends. */
  private handOut(): void {
    while (!this.queue.isEmpty) {
      const consumer = this.pickConsumer();
      if (consumer === undefined) return;
      const value = this.queue.shift();
      this.admitWaiters();
      consumer.next(value);
    }
  }

  private completeAll(): void {
    for (const consumer of this.consumers.splice(0)) consumer.complete();
  }

  /** A new subscriber of the observable: completes at once when closed and empty. */
  open(sink: ProducerSink<T>): Producer {
    if (this.closed && this.queue.isEmpty) {
      sink.complete();
      return { pump: noop, teardown: noop };
    }
    this.consumers.push(sink);
    return { pump: () => this.deliver(), teardown: () => this.leave(sink) };
  }

  private leave(sink: ProducerSink<T>): void {
    const index = this.consumers.indexOf(sink);
    if (index < 0) return;
    this.consumers.splice(index, 1);
    // Keep the round-robin pointer on the same next consumer after the removal.
    if (index < this.nextConsumer) this.nextConsumer--;
  }
}

/** Validates one send's options; returns its signal, if any. */
function sendSignal(options: SendOptions | undefined): AbortSignal | undefined {
  optionsObject<SendOptions>(`${NAME}.send`, options, false, ['signal']);
  const signal = options?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw optionTypeError(`${NAME}.send`, 'signal', 'an AbortSignal', signal);
  }
  return signal;
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
  const core = new ChannelCore<T>(capacity, maxPendingSends);
  return new ChannelHandle<T>(
    core,
    demandSource<T>(NAME, (sink) => core.open(sink)),
  );
}

/**
 * What `channel()` returns. A class, not a literal with getters (V8 keeps such a literal in
 * dictionary mode, and `send` is looked up per value); the methods are arrow-function fields so
 * that `const { send } = ch` works.
 */
class ChannelHandle<T> implements Channel<T> {
  readonly send: Channel<T>['send'];
  readonly trySend: Channel<T>['trySend'];
  readonly close: Channel<T>['close'];
  /** Private for real: a channel handed around shows its methods, not its queue. */
  readonly #core: ChannelCore<T>;

  constructor(
    core: ChannelCore<T>,
    readonly observable: DemandObservable<T>,
  ) {
    this.#core = core;
    this.send = (value, sendOptions) => core.send(value, sendOptions);
    this.trySend = (value) => core.trySend(value);
    this.close = () => core.close();
  }

  get closed(): boolean {
    return this.#core.closed;
  }

  get size(): number {
    return this.#core.size;
  }

  get pendingSends(): number {
    return this.#core.waiters.size;
  }
}

function noop(): void {}
