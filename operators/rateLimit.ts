import {
  asyncScheduler,
  type MonoTypeOperatorFunction,
  type Observable,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { ProtocolError, optionRangeError, optionTypeError } from '../lib/core/errors.js';
import { currentLedger, type StageEntry } from '../lib/core/ledger.js';
import { Monitor, monitorPort, type MonitorPort } from '../lib/core/monitor.js';
import { demandSource, type Producer, type ProducerSink } from '../lib/core/producer.js';
import type { Cancellation, DemandObserver } from '../lib/core/protocol.js';
import { upstreamOf, type Upstream } from '../lib/core/upstream.js';
import {
  optionalFunction,
  optionalPositiveInteger,
  optionalScheduler,
  optionsObject,
  pushOverflowPolicy,
  positiveInteger,
  timerDelay,
  optionalMonitor,
} from '../lib/core/validate.js';
import { pausableOf } from '../lib/queue/absorb.js';
import { bufferMonitor, type BufferStats, type DropEvent, type QueueConfig } from '../lib/queue/bounded-queue.js';
import { Deque } from '../lib/queue/deque.js';

const NAME = 'rateLimit';

/** Counters of one rateLimit subscription. */
export interface RateStats {
  /** Values that reached the limiter (from a pausable source, or out of the push-source queue). */
  readonly received: number;
  /** Values handed downstream. */
  readonly emitted: number;
  /** Values received and thrown away because the stream errored or was unsubscribed. */
  readonly discarded: number;
  /** Values received and not yet emitted (at most `count`; 0 between signals). */
  readonly held: number;
  /** Values the limiter may emit now without exceeding the rate. */
  readonly tokens: number;
  /** The push-source queue's counters; absent when the source is pausable (nothing is queued). */
  readonly queue: BufferStats | undefined;
}

/** Options of {@link rateLimit}; `count` and `per` are required. */
export interface RateLimitOptions<T> {
  /** At most this many values in any window of `per` ms; an integer >= 1. */
  count: number;
  /** The window in milliseconds; a finite number > 0. */
  per: number;
  /**
   * How many values may go at once after an idle period (an integer from 1 to `count`, default
   * `count`). Below `count`, the rate is spread: at most `burst` values in any window of
   * `per × burst / count` ms (`burst: 1` spaces values `per / count` ms apart).
   */
  burst?: number;
  /** Times the windows (default `asyncScheduler`); a TestScheduler gives virtual time. */
  scheduler?: SchedulerLike;
  /** For a source that cannot be paused: how many values may wait (default 1024). */
  capacity?: number;
  /**
   * For a source that cannot be paused: what a full queue does with the next value (default
   * `'error'`). `'block'` is refused: a push source cannot be paused.
   */
  overflow?: 'drop-newest' | 'drop-oldest' | 'error';
  /** Called with each value the push-source queue drops or throws away (as for boundedBuffer). */
  onDrop?: (value: T, event: DropEvent) => void;
  /** Receives live counters; create one with {@link rateMonitor}. */
  monitor?: Monitor<RateStats>;
}

/**
 * A monitor for {@link rateLimit}: `snapshot()` reads values received, emitted, discarded and the
 * tokens left, and `changes` emits them as they change.
 *
 * @return A fresh monitor; pass it as the `monitor` option.
 */
export function rateMonitor(): Monitor<RateStats> {
  return new Monitor<RateStats>(
    { received: 0, emitted: 0, discarded: 0, held: 0, tokens: 0, queue: undefined },
    'rateMonitor',
  );
}

/**
 * Turns a rate into demand: asks its source for a value only when emitting it would stay within
 * `count` values per `per` ms, so a pausable source is read no faster than the rate.
 *
 * ![rateLimit](../docs/diagrams/rateLimit-pull.svg)
 *
 * The limit is a sliding window, not a fixed one: in **any** window of `per` ms at most `count`
 * values are emitted (each emitted value's slot comes back `per` ms after it was emitted), so
 * "50 per second" never becomes 100 across the edge of a second. With `burst` below `count`
 * the rate is also spread: at most `burst` values in any window of `per × burst / count` ms.
 *
 * The limiter holds no queue of its own. It requests from a pausable source (fromPull, channel,
 * a library stage directly upstream) only `min(slots free, downstream demand)` values, so a value
 * it receives is emitted at once. A downstream library stage pulls through it: in
 * `rateLimit(...) → mergeWorkers(work)` the pool's pull for free workers is what is limited, so
 * work starts at most `count` times per `per` ms. An ordinary subscriber asks for everything and
 * gets values at the rate.
 *
 * A source that cannot be paused is absorbed first by the bounded queue, as in mergeWorkers
 * (`capacity` default 1024, `overflow` default `'error'`: an OverflowError rather than a silent
 * drop when the source outruns the rate by more than the capacity). Drops are counted in
 * `monitor` (under `queue`) and passed to `onDrop`.
 *
 * Completion waits for nothing: the rate limits values, not the end. An error is delivered at
 * once. Unsubscribing releases the source and the window timers.
 *
 * ## Warnings
 * Demand does not cross native RxJS operators: `fromPull(x).pipe(map(f), rateLimit(...))` reads
 * the mapped source as a push source (into the bounded queue). Put `f` after the limiter.
 * The timers measure the scheduler's time, which is a lower bound for when the far side sees a
 * value: work that starts later than it is pulled (a queue after the limiter) may bunch.
 *
 * Failure modes guarded against: an unbounded queue in front of a rate (`bufferTime` +
 * `concatMap`: BP-01, ML-01), a rate kept by dropping without a metric (`throttleTime`: BP-07).
 *
 * ## Example
 * ```ts
 * fromPull(ids).pipe(
 *   rateLimit({ count: 50, per: 1000 }), // the API allows 50 requests per second
 *   mergeWorkers((id, { signal }) => fetch(`/api/items/${id}`, { signal }), { concurrency: 8 }),
 * );
 * ```
 *
 * @see {@link mergeWorkers}, {@link boundedBuffer}, {@link rateMonitor}
 * @param options `count` per `per` ms, `burst`, the timers' scheduler, the push-source queue and
 * a monitor.
 * @return A function that returns a demand-aware Observable of the source's values, at the rate.
 */
export function rateLimit<T>(options: RateLimitOptions<T>): MonoTypeOperatorFunction<T> {
  const config = resolveConfig<T>(options);
  return (source) => demandSource<T>(NAME, (sink) => new RateLimiter(source, config, sink));
}

interface RateConfig<T> {
  count: number;
  per: number;
  burst: number;
  scheduler: SchedulerLike;
  capacity: number;
  overflow: 'drop-newest' | 'drop-oldest' | 'error';
  onDrop: ((value: T, event: DropEvent) => void) | undefined;
  monitor: MonitorPort<RateStats> | undefined;
}

function resolveConfig<T>(options: unknown): RateConfig<T> {
  const opts = optionsObject<RateLimitOptions<T>>(NAME, options, true, [
    'count',
    'per',
    'burst',
    'scheduler',
    'capacity',
    'overflow',
    'onDrop',
    'monitor',
  ]);
  const count = positiveInteger(NAME, 'count', opts.count);
  const per = opts.per;
  if (typeof per !== 'number') throw optionTypeError(NAME, 'per', 'a finite number of ms > 0', per);
  if (!Number.isFinite(per) || per <= 0) throw optionRangeError(NAME, 'per', 'a finite number of ms > 0', per);
  timerDelay(NAME, 'per', per);
  const burst = optionalPositiveInteger(NAME, 'burst', opts.burst, count);
  if (burst > count) throw optionRangeError(NAME, 'burst', `a positive integer up to count (${count})`, burst);
  const overflow = pushOverflowPolicy(NAME, opts.overflow);
  const monitor = optionalMonitor<RateStats>(NAME, opts.monitor, 'rateMonitor');
  return {
    count,
    per,
    burst,
    scheduler: optionalScheduler(NAME, 'scheduler', opts.scheduler, asyncScheduler),
    capacity: optionalPositiveInteger(NAME, 'capacity', opts.capacity, 1024),
    overflow,
    onDrop: optionalFunction(NAME, 'onDrop', opts.onDrop),
    monitor,
  };
}

/**
 * A sliding window of `size` slots: a slot taken at time t comes back at t + `span`. Slots taken
 * at the same instant share one entry, so the entries are at most `size` and usually far fewer.
 * One timer at a time, for the earliest return.
 */
class SlidingWindow {
  free: number;
  private readonly returns = new Deque<{ at: number; n: number }>();
  private tail: { at: number; n: number } | undefined;
  private timer: Subscription | undefined;

  constructor(
    readonly size: number,
    private readonly span: number,
    private readonly scheduler: SchedulerLike,
    private readonly onReturn: () => void,
  ) {
    this.free = size;
  }

  take(now: number): void {
    this.free--;
    const at = now + this.span;
    if (this.tail !== undefined && this.tail.at === at) this.tail.n++;
    else {
      this.tail = { at, n: 1 };
      this.returns.push(this.tail);
    }
    if (this.timer === undefined) this.arm(now);
  }

  release(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
  }

  private arm(now: number): void {
    const head = this.returns.peek();
    if (head === undefined) return;
    this.timer = this.scheduler.schedule(() => this.due(), Math.max(0, head.at - now));
  }

  private due(): void {
    this.timer = undefined;
    const now = this.scheduler.now();
    for (let head = this.returns.peek(); head !== undefined && head.at <= now; head = this.returns.peek()) {
      this.free += head.n;
      this.returns.shift();
    }
    if (this.returns.isEmpty) this.tail = undefined;
    this.arm(now);
    this.onReturn();
  }
}

/**
 * One rateLimit subscription. Every value received ends in exactly one of: emitted, discarded
 * (the stream errored or was unsubscribed while it was held), or is still held.
 */
class RateLimiter<T> implements Producer, DemandObserver<T> {
  private readonly windows: SlidingWindow[];
  /** Received, not yet emitted; at most the slots free (see refill). */
  private readonly held = new Deque<T>();
  /** In a drained segment (lib/core/ledger.ts), each held value's weight, in step with `held`. */
  private readonly weights: Deque<number> | undefined;
  private readonly ledger: StageEntry | undefined;
  private started = false;
  private readonly queueMonitor = bufferMonitor();
  private upstream: Upstream<T> | undefined = undefined;
  private pausable = true;
  /** Requested and not yet received. */
  private outstanding = 0;
  private upstreamDone = false;
  private finished = false;
  private received = 0;
  private emitted = 0;
  private discarded = 0;

  constructor(
    private readonly source: Observable<T>,
    private readonly config: RateConfig<T>,
    private readonly sink: ProducerSink<T>,
  ) {
    const { count, per, burst, scheduler } = config;
    const onSlots = (): void => this.onSlots();
    this.windows = [new SlidingWindow(count, per, scheduler, onSlots)];
    if (burst < count) this.windows.push(new SlidingWindow(burst, (per * burst) / count, scheduler, onSlots));
    this.ledger = currentLedger()?.stage(NAME);
    this.weights = this.ledger === undefined ? undefined : new Deque<number>();
    config.monitor?.attach(() => this.stats());
  }

  private stats(): RateStats {
    const { received, emitted, discarded } = this;
    return {
      received,
      emitted,
      discarded,
      held: this.held.size,
      tokens: this.slotsFree(),
      queue: this.pausable ? undefined : this.queueMonitor.snapshot(),
    };
  }

  private settle(value: T, state: 'emitted' | 'discarded'): void {
    const monitor = this.config.monitor;
    if (monitor !== undefined && monitor.tracing) monitor.settle(value, state);
  }

  private slotsFree(): number {
    const windows = this.windows;
    let free = windows[0]!.free;
    for (let i = 1; i < windows.length; i++) free = Math.min(free, windows[i]!.free);
    return free;
  }

  /** A window slot came back: the pump may emit a held value and ask for more. */
  private onSlots(): void {
    if (this.finished) return;
    this.config.monitor?.notify();
    this.sink.schedulePump();
  }

  // ---- values arriving -------------------------------------------------------------------------

  next(value: T): void {
    if (this.finished) return;
    if (this.outstanding === 0) {
      // Every value is paid for by a request; one that was not would break the rate.
      this.sink.error(new ProtocolError(`${NAME}: the source sent a value that was not requested (rule 1.1)`));
      return;
    }
    this.outstanding--;
    this.received++;
    this.held.push(value);
    if (this.ledger !== undefined) {
      this.weights!.push(this.ledger.ledger.receive());
      this.started = this.ledger.ledger.receivedStarted;
    }
    this.sink.schedulePump();
  }

  error(err: unknown): void {
    if (this.finished) return;
    this.sink.error(err); // teardown counts the held values as discarded
  }

  complete(): void {
    if (this.finished) return;
    this.upstreamDone = true;
    this.sink.schedulePump();
  }

  // ---- values leaving --------------------------------------------------------------------------

  private emit(value: T): void {
    const now = this.config.scheduler.now();
    for (const window of this.windows) window.take(now);
    this.emitted++;
    this.settle(value, 'emitted');
    if (this.ledger !== undefined) this.ledger.ledger.send(this.weights!.shift(), this.started);
    this.sink.next(value);
  }

  pump(): void {
    const { sink, held } = this;
    while (sink.demand > 0 && !held.isEmpty && this.slotsFree() > 0) this.emit(held.shift());
    if (this.finished) return; // the consumer cancelled inside next
    if (this.upstreamDone && held.isEmpty) {
      sink.complete();
      return;
    }
    this.refill();
    this.config.monitor?.notify();
  }

  // ---- demand ----------------------------------------------------------------------------------

  /**
   * Asks for what can be emitted now: as many values as there are free slots and downstream
   * demand, minus those already on their way. Slots are taken only when a value is emitted and
   * only come back otherwise, so a requested value always finds its slot when it arrives.
   */
  private refill(): void {
    const upstream = this.upstream;
    if (upstream === undefined || this.upstreamDone || this.finished) return;
    const want = this.wanted();
    if (want > 0) {
      this.outstanding += want;
      upstream.request(want);
    }
  }

  private wanted(): number {
    return Math.min(this.slotsFree(), this.sink.demand) - this.outstanding - this.held.size;
  }

  connect(): void {
    const { config, source } = this;
    const queue: QueueConfig<T> = {
      name: NAME,
      capacity: config.capacity,
      overflow: config.overflow,
      onDrop: config.onDrop,
      monitor: monitorPort<BufferStats>(this.queueMonitor, 'bufferMonitor'),
      delayError: false,
    };
    const pullable = pausableOf(source, queue);
    this.pausable = pullable === source;
    const up = upstreamOf(pullable);
    this.upstream = up;
    // Asked before the source starts, so a synchronous one delivers it during the subscription
    // instead of filling the push-source queue before anyone has asked.
    const first = Math.max(0, this.wanted());
    this.outstanding = first;
    up.connect(this, first);
    this.sink.schedulePump();
  }

  teardown(cancellation?: Cancellation): void {
    this.finished = true;
    for (const window of this.windows) window.release();
    this.discardHeld();
    this.upstream?.cancel(cancellation);
    this.upstream = undefined;
    this.config.monitor?.notify();
  }

  private discardHeld(): void {
    const { held, ledger } = this;
    while (!held.isEmpty) {
      this.discarded++;
      this.settle(held.shift(), 'discarded');
      if (ledger !== undefined) ledger.abandon(this.weights!.shift(), this.started);
    }
  }
}
