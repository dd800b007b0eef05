import type { Observable } from 'rxjs';
import { OverflowError, type OverflowPolicy } from '../core/errors.js';
import { Monitor, type MonitorPort } from '../core/monitor.js';
import { Credit } from '../core/credit.js';
import { currentLedger, type StageEntry } from '../core/ledger.js';
import { demandSource, type Producer, type ProducerSink } from '../core/producer.js';
import { demandProtocolOf, type Cancellation, type DemandObservable, type DemandObserver } from '../core/protocol.js';
import { upstreamOf, type Upstream } from '../core/upstream.js';
import { RingBuffer } from './ring-buffer.js';

/**
 * Counters of one boundedBuffer subscription. They obey the conservation law (docs/design.md): at
 * every change, `received = emitted + dropped + discarded + depth`.
 */
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
 * A monitor for {@link boundedBuffer} and {@link toAsyncIterable}: `snapshot()` reads values
 * received, emitted, dropped and discarded, the depth and its high-water mark, `changes` emits
 * them as they change, and `settled` names each value as it is emitted, dropped or discarded.
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
  monitor: MonitorPort<BufferStats> | undefined;
  delayError: boolean;
  /**
   * Appended to the OverflowError's message: why this queue exists and how to avoid the overflow.
   * A stage that queues a push source it was not asked to queue (the pool) passes
   * {@link IMPLICIT_QUEUE_ADVICE}.
   */
  overflowAdvice?: string | undefined;
}

/**
 * The advice for an overflow of a queue the user did not ask for: the one a pool puts in front of
 * a source that cannot be paused. It says why the queue is there, where its capacity came from,
 * and the two fixes. `defaulted`: the capacity is the default, not one the user passed.
 */
export const IMPLICIT_QUEUE_ADVICE = (operator: string, capacity: number, defaulted = true): string =>
  `The source cannot be paused (a plain Observable such as a Subject, fromEvent or interval, or a ` +
  `native operator between two library stages), so ${operator} queued its values while every ` +
  `worker was busy, up to ${defaulted ? `the default 'capacity' option (${capacity})` : `its 'capacity' option (${capacity})`}. ` +
  `Fix: read the source with fromPull() (or a channel) so that it is asked for values only when a ` +
  `worker is free, or put an explicit boundedBuffer({ capacity, overflow: 'drop-oldest' }) (or ` +
  `'drop-newest') in front of ${operator} to shed load.`;

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
  if (config.overflow === 'block' && demandProtocolOf(source) === undefined) {
    sink.error(notPausableError(config.name));
    return { pump() {}, teardown() {} };
  }
  return new QueueStage(source, config, sink);
}

/**
 * One subscription of a bounded queue. Every value that arrives ends in exactly one of: emitted,
 * dropped (by a drop policy), discarded (the stream failed or was unsubscribed while it waited, or
 * it overflowed under `error`), or is still queued.
 */
class QueueStage<T> implements Producer, DemandObserver<T> {
  private readonly queue: RingBuffer<T>;
  /** In a drained segment, the weight of each queued value (lib/core/ledger.ts), in step. */
  private readonly weights: RingBuffer<number> | undefined;
  private readonly ledger: StageEntry | undefined;
  private started = false;
  private readonly block: boolean;
  private upstream: Upstream<T> | undefined = undefined;
  private upstreamDone = false;
  private pendingError: { err: unknown } | undefined = undefined;
  /** What a pausable upstream was asked for and has not sent yet. */
  private credit: Credit | undefined = undefined;
  private received = 0;
  private emitted = 0;
  private dropped = 0;
  private discarded = 0;
  private highWater = 0;
  /** The monitor's port, in a field of its own: read on every value. */
  private readonly monitor: MonitorPort<BufferStats> | undefined;

  constructor(
    private readonly source: Observable<T>,
    private readonly config: QueueConfig<T>,
    private readonly sink: ProducerSink<T>,
  ) {
    this.block = config.overflow === 'block';
    this.queue = new RingBuffer<T>(config.capacity);
    this.ledger = currentLedger()?.stage(config.name);
    this.weights = this.ledger === undefined ? undefined : new RingBuffer<number>(config.capacity);
    this.monitor = config.monitor;
    config.monitor?.attach(() => this.stats());
  }

  private stats(): BufferStats {
    const { received, emitted, dropped, discarded, highWater } = this;
    return { received, emitted, dropped, discarded, depth: this.queue.size, highWater };
  }

  // ---- values arriving -------------------------------------------------------------------------

  next(value: T): void {
    const sink = this.sink;
    if (sink.closed) return;
    this.received++;
    const ledger = this.ledger;
    if (ledger === undefined && this.monitor === undefined && this.queue.isEmpty && sink.demand > 0) {
      // The common case, kept short: passed straight on, nothing to count but `emitted`. Only
      // `block` meters the source (elsewhere the credit is unmetered, or unused for a push
      // source), so only it has credit to keep and anything to refill.
      if (this.block) this.credit?.received();
      this.emitted++;
      sink.next(value);
      if (this.block) this.refill();
      return;
    }
    const weight = ledger === undefined ? 0 : ledger.ledger.receive();
    if (ledger !== undefined) this.started = ledger.ledger.receivedStarted;
    this.credit?.received();
    if (this.queue.isEmpty && sink.demand > 0) {
      // Passed straight on: nothing is queued, so a pump would find nothing to do.
      this.emit(value, weight);
      if (this.block) this.refill();
      this.monitor?.notify();
      return;
    }
    if (this.queue.push(value)) {
      this.weights?.push(weight);
      if (this.queue.size > this.highWater) this.highWater = this.queue.size;
    } else {
      this.overflowed(value, weight);
    }
    this.config.monitor?.notify();
    sink.schedulePump();
  }

  error(err: unknown): void {
    if (!this.sink.closed) this.fail(err, this.config.delayError);
  }

  complete(): void {
    if (this.sink.closed) return;
    this.upstreamDone = true;
    this.sink.schedulePump();
  }

  private emit(value: T, weight: number): void {
    this.emitted++;
    this.settle(value, 'emitted');
    this.ledger?.ledger.send(weight, this.started);
    this.sink.next(value);
  }

  private settle(value: T, state: 'emitted' | 'dropped' | 'discarded'): void {
    const monitor = this.config.monitor;
    if (monitor !== undefined && monitor.tracing) monitor.settle(value, state);
  }

  // ---- a full queue ----------------------------------------------------------------------------

  private overflowed(value: T, weight: number): void {
    switch (this.config.overflow) {
      case 'drop-newest':
        this.drop(value, weight, 'drop-newest');
        return;
      case 'drop-oldest': {
        const evicted = this.queue.shift();
        const evictedWeight = this.weights?.shift() ?? 0;
        this.queue.push(value);
        this.weights?.push(weight);
        this.drop(evicted, evictedWeight, 'drop-oldest');
        return;
      }
      default:
        // 'error', or 'block' against an upstream that sent more than it was asked for.
        this.discarded++;
        this.settle(value, 'discarded');
        this.ledger?.abandon(weight, this.started);
        if (this.config.onDrop !== undefined && !this.report(value, 'error')) return;
        this.fail(
          new OverflowError(this.config.name, this.config.capacity, this.config.overflow, undefined, {
            advice: this.config.overflowAdvice,
          }),
          this.config.delayError,
        );
    }
  }

  private drop(value: T, weight: number, reason: 'drop-newest' | 'drop-oldest'): void {
    this.dropped++;
    this.settle(value, 'dropped');
    this.ledger?.record('dropped', weight);
    this.report(value, reason);
  }

  /** Tells onDrop; false when it threw (the stream then fails with what it threw). */
  private report(value: T, reason: DropReason): boolean {
    const onDrop = this.config.onDrop;
    if (onDrop === undefined) return true;
    try {
      onDrop(value, { operator: this.config.name, reason, capacity: this.config.capacity, stats: this.stats() });
      return true;
    } catch (err) {
      this.fail(err, false);
      return false;
    }
  }

  // ---- ending ----------------------------------------------------------------------------------

  private fail(err: unknown, afterQueued: boolean): void {
    this.upstreamDone = true;
    this.upstream?.cancel();
    if (afterQueued) {
      this.pendingError ??= { err };
      this.sink.schedulePump();
      return;
    }
    this.discardQueued(true);
    this.sink.error(err);
  }

  /** Counts every queued value as discarded; on an error (`tell`), onDrop hears of each. */
  private discardQueued(tell: boolean): void {
    while (!this.queue.isEmpty) {
      const value = this.queue.shift();
      this.discarded++;
      this.settle(value, 'discarded');
      this.ledger?.abandon(this.weights?.shift() ?? 0, this.started);
      if (tell && this.config.onDrop !== undefined) {
        try {
          this.config.onDrop(value, {
            operator: this.config.name,
            reason: 'error',
            capacity: this.config.capacity,
            stats: this.stats(),
          });
        } catch {
          // Already failing: the first error is the one delivered.
        }
      }
    }
  }

  // ---- demand ----------------------------------------------------------------------------------

  connect(): void {
    const up = upstreamOf(this.source);
    this.upstream = up;
    const credit = (this.credit = new Credit(up));
    up.connect(this);
    if (!up.pausable || this.sink.closed) return;
    if (!this.block) credit.request(Infinity);
    else this.refill();
  }

  private refill(): void {
    const credit = this.credit;
    if (!this.block || this.upstream === undefined || credit === undefined || credit.unmetered) return;
    if (this.upstreamDone || this.sink.closed) return;
    // Nobody downstream can be overrun when it asks for everything: stop metering the source.
    if (this.sink.demand === Infinity) credit.request(Infinity);
    else credit.topUp(this.config.capacity - this.queue.size);
  }

  pump(): void {
    const sink = this.sink;
    while (sink.demand > 0 && !this.queue.isEmpty) this.emit(this.queue.shift(), this.weights?.shift() ?? 0);
    if (this.queue.isEmpty && this.upstreamDone && !sink.closed) {
      if (this.pendingError !== undefined) sink.error(this.pendingError.err);
      else sink.complete();
      return;
    }
    this.refill();
    this.config.monitor?.notify();
  }

  teardown(cancellation?: Cancellation): void {
    this.upstream?.cancel(cancellation);
    this.upstream = undefined;
    this.discardQueued(false);
    this.config.monitor?.notify();
  }
}
