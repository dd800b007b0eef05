import type { Observable, SchedulerLike, Subscription } from 'rxjs';
import { OverflowError } from '../core/errors.js';
import { Credit } from '../core/credit.js';
import { currentLedger, type StageEntry } from '../core/ledger.js';
import { Monitor, type MonitorPort } from '../core/monitor.js';
import { demandSource, type Producer, type ProducerSink } from '../core/producer.js';
import type { Cancellation, DemandObservable, DemandObserver } from '../core/protocol.js';
import { upstreamOf, type Upstream } from '../core/upstream.js';
import { Deque } from './deque.js';

/**
 * Counters of one batchFresh subscription. Counted in values, they obey the conservation law
 * (docs/design.md): at every change, `received = valuesEmitted + current + valuesPending +
 * valuesDropped + valuesDiscarded`.
 */
export interface BatchStats {
  /** Values that arrived from upstream. */
  readonly received: number;
  /** Batches handed downstream. */
  readonly emitted: number;
  /** Values handed downstream, over all emitted batches. */
  readonly valuesEmitted: number;
  /** Complete batches dropped by the overflow policy (`drop-newest`, `drop-oldest`; push sources only). */
  readonly dropped: number;
  /** Values in dropped batches. */
  readonly valuesDropped: number;
  /**
   * Batches thrown away, complete or partial: on a source error with `onError: 'discard'`, on an
   * OverflowError (including the batch that did not fit), and on unsubscribe.
   */
  readonly discarded: number;
  /** Values in discarded batches. */
  readonly valuesDiscarded: number;
  /** Values in dropped and discarded batches (`valuesDropped + valuesDiscarded`). */
  readonly valuesLost: number;
  /** Complete batches waiting for downstream demand now (at most `maxPending`). */
  readonly pending: number;
  /** Values in the complete batches waiting now. */
  readonly valuesPending: number;
  /** Values in the batch being filled now. */
  readonly current: number;
}

/**
 * A monitor for {@link batchFresh}: `snapshot()` reads batches and values emitted, pending,
 * dropped and discarded, `changes` emits them as they change, and `settled` names each value as
 * its batch is emitted, dropped or discarded.
 *
 * @return A fresh monitor; pass it as the `monitor` option.
 */
export function batchMonitor(): Monitor<BatchStats> {
  return new Monitor<BatchStats>(
    {
      received: 0,
      emitted: 0,
      valuesEmitted: 0,
      dropped: 0,
      valuesDropped: 0,
      discarded: 0,
      valuesDiscarded: 0,
      valuesLost: 0,
      pending: 0,
      valuesPending: 0,
      current: 0,
    },
    'batchMonitor',
  );
}

/** @internal The resolved options of batchFresh. */
export interface BatchConfig<T> {
  name: string;
  size: number | undefined;
  maxWait: number | undefined;
  /** Batches by weight: the weight of a value, the most a batch may weigh, and what a heavier value does. */
  weight: ((value: T) => number) | undefined;
  maxWeight: number | undefined;
  oversized: 'alone' | 'error';
  scheduler: SchedulerLike;
  flushOnError: boolean;
  freeze: boolean;
  maxPending: number;
  overflow: 'drop-newest' | 'drop-oldest' | 'error';
  monitor: MonitorPort<BatchStats> | undefined;
}

/** @internal The engine behind batchFresh. */
export function batcher<T>(source: Observable<T>, config: BatchConfig<T>): DemandObservable<T[]> {
  return demandSource<T[]>(config.name, (sink) => new Batcher(source, config, sink));
}

/** A batch and, inside a drained segment, how many of the segment's values it stands for. */
interface Batch<T> {
  readonly values: T[];
  weight: number;
  /** The sum of the values' `weight` (batches by weight only). */
  load: number;
}

/**
 * One subscription of batchFresh: the batch being filled, the complete batches waiting for
 * demand, the timer, and the requests to a pausable source.
 */
class Batcher<T> implements Producer, DemandObserver<T> {
  /** Complete batches waiting for demand, at most maxPending. */
  private readonly ready = new Deque<Batch<T>>();
  /** The batch being filled; made with its first value. */
  private current: Batch<T> | undefined = undefined;
  private timer: Subscription | undefined = undefined;
  /** current's time ran out while `ready` was full (pausable source only). */
  private overdue = false;
  private upstream: Upstream<T> | undefined = undefined;
  private pausable = false;
  /** What a pausable upstream was asked for and has not sent yet. */
  private credit: Credit | undefined = undefined;
  /** Completed, or errored under 'flush': no value will arrive. */
  private upstreamDone = false;
  private pendingError: { err: unknown } | undefined = undefined;
  private finished = false;
  private readonly ledger: StageEntry | undefined;
  private started = false;
  private received = 0;
  private emitted = 0;
  private valuesEmitted = 0;
  private dropped = 0;
  private valuesDropped = 0;
  private discarded = 0;
  private valuesDiscarded = 0;
  private valuesPending = 0;

  constructor(
    private readonly source: Observable<T>,
    private readonly config: BatchConfig<T>,
    private readonly sink: ProducerSink<T[]>,
  ) {
    this.ledger = currentLedger()?.stage(config.name);
    config.monitor?.attach(() => this.stats());
  }

  private stats(): BatchStats {
    return {
      received: this.received,
      emitted: this.emitted,
      valuesEmitted: this.valuesEmitted,
      dropped: this.dropped,
      valuesDropped: this.valuesDropped,
      discarded: this.discarded,
      valuesDiscarded: this.valuesDiscarded,
      valuesLost: this.valuesDropped + this.valuesDiscarded,
      pending: this.ready.size,
      valuesPending: this.valuesPending,
      current: this.current?.values.length ?? 0,
    };
  }

  // ---- receiving values ------------------------------------------------------------------------

  next(value: T): void {
    if (this.finished) return;
    this.received++;
    this.credit?.received();
    const weight = this.ledger === undefined ? 0 : this.ledger.ledger.receive();
    if (this.ledger !== undefined) this.started = this.ledger.ledger.receivedStarted;
    let load = 0;
    if (this.config.weight !== undefined) {
      const weighed = this.weigh(value, weight);
      if (weighed === undefined) return;
      load = weighed;
    }
    let batch = this.current;
    if (batch === undefined) {
      batch = this.current = { values: [value], weight, load };
      this.startTimer();
    } else {
      batch.values.push(value);
      batch.weight += weight;
      batch.load += load;
    }
    const size = this.config.size;
    const full =
      (size !== undefined && batch.values.length >= size) ||
      (this.config.maxWeight !== undefined && batch.load >= this.config.maxWeight);
    if (full) this.closeBatch();
    this.config.monitor?.notify();
    // The pump has work only when a batch closed, or a pausable source must be asked for more.
    if (full || (this.pausable && this.credit?.outstanding === 0)) this.sink.schedulePump();
  }

  /**
   * Batches by weight: the value's weight, after closing the batch it would take past `maxWeight`;
   * undefined when the value is not added here (it failed the stream, or went alone).
   */
  private weigh(value: T, weight: number): number | undefined {
    const maxWeight = this.config.maxWeight!;
    let load: number;
    try {
      load = this.config.weight!(value);
    } catch (err) {
      this.refuse(value, weight, err);
      return undefined;
    }
    if (typeof load !== 'number' || !Number.isFinite(load) || load < 0) {
      this.refuse(
        value,
        weight,
        new TypeError(`${this.config.name}: 'weight' must return a finite number >= 0, got ${String(load)}`),
      );
      return undefined;
    }
    if (load > maxWeight && this.config.oversized === 'error') {
      const err = new RangeError(
        `${this.config.name}: a value weighs ${load}, more than 'maxWeight' (${maxWeight}); oversized: 'error'`,
      );
      this.refuse(value, weight, err);
      return undefined;
    }
    const current = this.current;
    if (current !== undefined && current.load + load > maxWeight) this.closeBatch();
    if (load <= maxWeight) return load;
    // Heavier than any batch may be: it goes alone, documented.
    this.current = { values: [value], weight, load };
    this.closeBatch();
    this.config.monitor?.notify();
    this.sink.schedulePump();
    return undefined;
  }

  /** A value that cannot be batched fails the stream; it is counted as discarded. */
  private refuse(value: T, weight: number, err: unknown): void {
    this.discard({ values: [value], weight, load: 0 });
    this.sink.error(err);
  }

  error(err: unknown): void {
    if (this.finished) return;
    if (!this.config.flushOnError) {
      this.sink.error(err); // teardown counts what was held as discarded
      return;
    }
    this.pendingError = { err };
    this.sourceEnded();
  }

  complete(): void {
    if (!this.finished) this.sourceEnded();
  }

  /** No value will arrive: the batch being filled is final, so its timer is moot. */
  private sourceEnded(): void {
    this.upstreamDone = true;
    this.cancelTimer();
    this.sink.schedulePump();
  }

  // ---- closing and emitting batches ------------------------------------------------------------

  private startTimer(): void {
    if (this.config.maxWait !== undefined) {
      this.timer = this.config.scheduler.schedule(() => this.onTimer(), this.config.maxWait);
    }
  }

  private cancelTimer(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.finished || this.upstreamDone || this.current === undefined) return;
    // A pausable source has been asked for nothing more; keep the batch open rather than hold
    // more than maxPending complete batches. It closes as soon as one is emitted (pump).
    if (this.pausable && this.ready.size >= this.config.maxPending) this.overdue = true;
    else this.closeBatch();
    this.config.monitor?.notify();
    this.sink.schedulePump();
  }

  /** The batch being filled is complete: emit it if downstream has asked, otherwise it waits. */
  private closeBatch(): void {
    const batch = this.current;
    if (batch === undefined) return;
    this.current = undefined;
    this.overdue = false;
    this.cancelTimer();
    if (this.ready.isEmpty && this.sink.demand > 0) this.emit(batch);
    else if (this.ready.size < this.config.maxPending) this.enqueue(batch);
    else this.overflowed(batch);
  }

  private enqueue(batch: Batch<T>): void {
    this.ready.push(batch);
    this.valuesPending += batch.values.length;
  }

  private dequeue(): Batch<T> {
    const batch = this.ready.shift();
    this.valuesPending -= batch.values.length;
    return batch;
  }

  private emit(batch: Batch<T>): void {
    const values = batch.values;
    this.emitted++;
    this.valuesEmitted += values.length;
    this.settle(values, 'emitted');
    // The operator holds no reference to the array any more (it left `current` or `ready` first).
    if (this.config.freeze) Object.freeze(values);
    this.ledger?.ledger.send(batch.weight, this.started);
    this.sink.next(values);
  }

  private overflowed(batch: Batch<T>): void {
    switch (this.config.overflow) {
      case 'drop-newest':
        this.drop(batch);
        return;
      case 'drop-oldest':
        this.drop(this.dequeue());
        this.enqueue(batch);
        return;
      default:
        this.discard(batch);
        this.sink.error(
          new OverflowError(this.config.name, this.config.maxPending, 'error', 'batches', { option: 'maxPending' }),
        );
    }
  }

  private drop(batch: Batch<T>): void {
    this.dropped++;
    this.valuesDropped += batch.values.length;
    this.settle(batch.values, 'dropped');
    this.ledger?.record('dropped', batch.weight);
  }

  private discard(batch: Batch<T>): void {
    this.discarded++;
    this.valuesDiscarded += batch.values.length;
    this.settle(batch.values, 'discarded');
    this.ledger?.abandon(batch.weight, this.started);
  }

  private settle(values: readonly T[], state: 'emitted' | 'dropped' | 'discarded'): void {
    const monitor = this.config.monitor;
    if (monitor === undefined || !monitor.tracing) return;
    for (const value of values) monitor.settle(value, state);
  }

  // ---- the drain loop (run by the kernel, re-entrancy safe) ------------------------------------

  pump(): void {
    if (this.finished) return;
    const sink = this.sink;
    while (sink.demand > 0 && !this.ready.isEmpty) this.emit(this.dequeue());
    if (this.finished) return; // the consumer cancelled inside next
    // A batch whose time ran out, or the final partial one, closes once there is room.
    const room = this.ready.size < this.config.maxPending;
    if (this.current !== undefined && (this.overdue || this.upstreamDone) && room) this.closeBatch();
    if (this.finished) return;
    if (this.upstreamDone && this.ready.isEmpty && this.current === undefined) {
      if (this.pendingError !== undefined) sink.error(this.pendingError.err);
      else sink.complete();
      return;
    }
    this.refill();
    this.config.monitor?.notify();
  }

  /** Asks a pausable source for the batch being filled, while the waiting batches leave room. */
  private refill(): void {
    const credit = this.credit;
    if (!this.pausable || credit === undefined || this.upstreamDone || this.finished || credit.unmetered) return;
    if (this.sink.demand === Infinity) {
      // Nobody downstream can be overrun: batches leave as soon as they close.
      credit.request(Infinity);
      return;
    }
    if (this.overdue || this.ready.size >= this.config.maxPending) return;
    // Without a size, or by weight, ask for one value at a time: the timer or the weight, not a
    // count, closes the batch (values asked for beyond it could not be placed).
    const size = this.config.size;
    const byCount = size !== undefined && this.config.weight === undefined;
    credit.topUp(byCount ? size - (this.current?.values.length ?? 0) : 1);
  }

  // ---- connecting and ending -------------------------------------------------------------------

  connect(): void {
    const up = upstreamOf(this.source);
    this.upstream = up;
    this.credit = new Credit(up);
    this.pausable = up.pausable;
    up.connect(this);
    this.sink.schedulePump();
  }

  /**
   * Called once by the kernel on completion, error or cancel: releases the timer and the source,
   * passing a cancellation on upstream, and counts the batches it held as discarded.
   */
  teardown(cancellation?: Cancellation): void {
    this.finished = true;
    this.cancelTimer();
    const current = this.current;
    this.current = undefined;
    if (current !== undefined) this.discard(current);
    while (!this.ready.isEmpty) this.discard(this.dequeue());
    this.upstream?.cancel(cancellation);
    this.upstream = undefined;
    this.config.monitor?.notify();
  }
}
