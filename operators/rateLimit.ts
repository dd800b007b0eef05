import {
  asyncScheduler,
  type MonoTypeOperatorFunction,
  type Observable,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { ProtocolError, optionRangeError, optionTypeError } from '../lib/core/errors.js';
import { currentLedger } from '../lib/core/ledger.js';
import { Monitor, monitorPort, type MonitorPort } from '../lib/core/monitor.js';
import { demandSource, type Producer, type ProducerSink } from '../lib/core/producer.js';
import type { Cancellation } from '../lib/core/protocol.js';
import { upstreamOf, type Upstream } from '../lib/core/upstream.js';
import {
  optionalFunction,
  optionalPositiveInteger,
  optionalScheduler,
  optionsObject,
  overflowPolicy,
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
  return (source) => demandSource<T>(NAME, (sink) => startLimiter(source, config, sink));
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
  const overflow = overflowPolicy(NAME, 'overflow', opts.overflow, 'error');
  if (overflow === 'block') {
    throw optionTypeError(
      NAME,
      'overflow',
      "'drop-newest', 'drop-oldest' or 'error' (a pausable source is paused without a policy)",
      overflow,
    );
  }
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

function startLimiter<T>(source: Observable<T>, config: RateConfig<T>, sink: ProducerSink<T>): Producer {
  const { count, per, burst, scheduler, monitor } = config;
  const windows = [new SlidingWindow(count, per, scheduler, onSlots)];
  if (burst < count) windows.push(new SlidingWindow(burst, (per * burst) / count, scheduler, onSlots));

  const held = new Deque<T>(); // received, not yet emitted; at most the slots free (see refill)
  // In a drained segment, each held value's weight (lib/core/ledger.ts), in step with `held`.
  const ledger = currentLedger()?.stage(NAME);
  const weights = ledger === undefined ? undefined : new Deque<number>();
  let started = false;
  const queueMonitor = bufferMonitor();
  let upstream: Upstream<T> | undefined;
  let pausable = true;
  let outstanding = 0; // requested and not yet received
  let upstreamDone = false;
  let finished = false;
  let received = 0;
  let emitted = 0;
  let discarded = 0;

  const stats = (): RateStats => ({
    received,
    emitted,
    discarded,
    held: held.size,
    tokens: slotsFree(),
    queue: pausable ? undefined : queueMonitor.snapshot(),
  });
  monitor?.attach(stats);

  function settle(value: T, state: 'emitted' | 'discarded'): void {
    if (monitor !== undefined && monitor.tracing) monitor.settle(value, state);
  }

  function slotsFree(): number {
    let free = windows[0]!.free;
    for (let i = 1; i < windows.length; i++) free = Math.min(free, windows[i]!.free);
    return free;
  }

  /** A window slot came back: the pump may emit a held value and ask for more. */
  function onSlots(): void {
    if (finished) return;
    monitor?.notify();
    sink.schedulePump();
  }

  function onValue(value: T): void {
    if (finished) return;
    if (outstanding === 0) {
      // Every value is paid for by a request; one that was not would break the rate.
      sink.error(new ProtocolError(`${NAME}: the source sent a value that was not requested (rule 1.1)`));
      return;
    }
    outstanding--;
    received++;
    held.push(value);
    if (ledger !== undefined) {
      weights!.push(ledger.ledger.receive());
      started = ledger.ledger.receivedStarted;
    }
    sink.schedulePump();
  }

  function onError(err: unknown): void {
    if (finished) return;
    sink.error(err); // teardown counts the held values as discarded
  }

  function onComplete(): void {
    if (finished) return;
    upstreamDone = true;
    sink.schedulePump();
  }

  function emit(value: T): void {
    const now = scheduler.now();
    for (const window of windows) window.take(now);
    emitted++;
    settle(value, 'emitted');
    if (ledger !== undefined) ledger.ledger.send(weights!.shift(), started);
    sink.next(value);
  }

  function pump(): void {
    while (sink.demand > 0 && !held.isEmpty && slotsFree() > 0) emit(held.shift());
    if (finished) return; // the consumer cancelled inside next
    if (upstreamDone && held.isEmpty) {
      sink.complete();
      return;
    }
    refill();
    monitor?.notify();
  }

  /**
   * Asks for what can be emitted now: as many values as there are free slots and downstream
   * demand, minus those already on their way. Slots are taken only when a value is emitted and
   * only come back otherwise, so a requested value always finds its slot when it arrives.
   */
  function refill(): void {
    if (upstream === undefined || upstreamDone || finished) return;
    const want = wanted();
    if (want > 0) {
      outstanding += want;
      upstream.request(want);
    }
  }

  function wanted(): number {
    return Math.min(slotsFree(), sink.demand) - outstanding - held.size;
  }

  function connect(): void {
    const queue: QueueConfig<T> = {
      name: NAME,
      capacity: config.capacity,
      overflow: config.overflow,
      onDrop: config.onDrop,
      monitor: monitorPort<BufferStats>(queueMonitor, 'bufferMonitor'),
      delayError: false,
    };
    const pullable = pausableOf(source, queue);
    pausable = pullable === source;
    const up = upstreamOf(pullable);
    upstream = up;
    // Asked before the source starts, so a synchronous one delivers it during the subscription
    // instead of filling the push-source queue before anyone has asked.
    const first = Math.max(0, wanted());
    outstanding = first;
    up.connect({ next: onValue, error: onError, complete: onComplete }, first);
    sink.schedulePump();
  }

  function teardown(cancellation?: Cancellation): void {
    finished = true;
    for (const window of windows) window.release();
    while (!held.isEmpty) {
      discarded++;
      settle(held.shift(), 'discarded');
      if (ledger !== undefined) ledger.abandon(weights!.shift(), started);
    }
    upstream?.cancel(cancellation);
    upstream = undefined;
    monitor?.notify();
  }

  return { pump, teardown, connect };
}
