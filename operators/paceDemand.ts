import { animationFrameScheduler, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { Monitor } from '../lib/core/monitor.js';
import { demandSource, type Producer, type ProducerSink } from '../lib/core/producer.js';
import { upstreamOf, type Upstream } from '../lib/core/upstream.js';
import {
  optionalMonitor,
  optionalPositiveInteger,
  optionalScheduler,
  optionsObject,
  timerDelay,
} from '../lib/core/validate.js';
import { optionRangeError, optionTypeError } from '../lib/core/errors.js';
import { pausableOf } from '../lib/queue/absorb.js';
import type { BufferStats, DropEvent } from '../lib/queue/bounded-queue.js';

const NAME = 'paceDemand';
const POLICIES: readonly unknown[] = ['drop-newest', 'drop-oldest', 'error'];

/** The options of {@link paceDemand}; all optional. */
export interface PaceDemandOptions<T> {
  /** How many values may arrive per tick (default 1); an integer >= 1. */
  count?: number;
  /**
   * Where ticks are timed (default `animationFrameScheduler`: one tick per rendered frame). Pass a
   * TestScheduler for marble tests, `asyncScheduler` with a `period` on a server.
   */
  scheduler?: SchedulerLike;
  /**
   * The delay of each tick on `scheduler`, in ms (default 0, which on `animationFrameScheduler`
   * means the next animation frame). Under a virtual-time scheduler use at least 1.
   */
  period?: number;
  /** For a push source only: how many values may wait (default 256). */
  capacity?: number;
  /** For a push source only: what a full buffer does (default `'error'`; `'block'` is refused). */
  overflow?: 'drop-newest' | 'drop-oldest' | 'error';
  /** For a push source only: called with each dropped value. */
  onDrop?: (value: T, event: DropEvent) => void;
  /** For a push source only: the buffer's counters (see bufferMonitor()). */
  monitor?: Monitor<BufferStats>;
}

interface PaceConfig {
  readonly count: number;
  readonly scheduler: SchedulerLike;
  readonly period: number;
}

/**
 * Demand from the screen: the last stage of a front end, which asks its source for at most
 * `count` values per animation frame, so the rendering sets the pace.
 *
 * ![paceDemand: a buffer upstream drops what the screen cannot take](../docs/diagrams/paceDemand-drop-oldest.svg)
 *
 * A plain subscriber (`subscribe`, `toSignal`, `async` pipe, `concatMap`) asks for everything, so a
 * `boundedBuffer` in front of it never fills and never drops. Put `paceDemand()` between them: it
 * asks upstream for `count` values, and asks again only on the next tick after values arrived, so
 * between two frames at most `count` values reach the subscriber. When rendering falls behind,
 * frames come less often, fewer values are asked for, and the buffer upstream applies its policy
 * (`drop-oldest` keeps the newest events and counts the rest as dropped).
 *
 * Values are passed on as they arrive (nothing is held here). Demand does not pile up while the
 * source is idle: no tick is scheduled until a value has been taken, so an idle stream costs no
 * frames. A library stage downstream is respected too: never more is asked than it asked for.
 *
 * ## Warnings
 * Only a library stage directly upstream (boundedBuffer, channel, fromPull, mergeWorkers, ...)
 * can be paused; a push source is absorbed by a bounded queue (`capacity`, `overflow`), which is
 * usually not what a UI wants: put `boundedBuffer({ capacity, overflow: 'drop-oldest' })` directly
 * before this stage. Under a virtual-time scheduler `period: 0` would drain the buffer within one
 * frame; give a `period`.
 *
 * ## Example
 * ```ts
 * const feed = toSignal(
 *   events$.pipe(boundedBuffer({ capacity: 100, overflow: 'drop-oldest' }), paceDemand({ count: 5 })),
 * );
 * ```
 *
 * @see {@link boundedBuffer}, {@link toAsyncIterable}
 * @param options Values per tick, the scheduler and period of ticks, buffering for push sources.
 * @return A function that returns a demand-aware Observable of the source's values, paced.
 */
export function paceDemand<T>(options?: PaceDemandOptions<T>): MonoTypeOperatorFunction<T> {
  const opts = optionsObject<PaceDemandOptions<T>>(NAME, options, false, [
    'count',
    'scheduler',
    'period',
    'capacity',
    'overflow',
    'onDrop',
    'monitor',
  ]);
  const config: PaceConfig = {
    count: optionalPositiveInteger(NAME, 'count', opts.count, 1),
    scheduler: optionalScheduler(NAME, 'scheduler', opts.scheduler, animationFrameScheduler),
    period: tickPeriod(opts.period),
  };
  const capacity = optionalPositiveInteger(NAME, 'capacity', opts.capacity, 256);
  const overflow = opts.overflow ?? 'error';
  if (!POLICIES.includes(overflow)) {
    throw optionTypeError(NAME, 'overflow', "'drop-newest', 'drop-oldest' or 'error'", overflow);
  }
  if (opts.onDrop !== undefined && typeof opts.onDrop !== 'function') {
    throw optionTypeError(NAME, 'onDrop', 'a function', opts.onDrop);
  }
  const monitor = optionalMonitor<BufferStats>(NAME, opts.monitor, 'bufferMonitor');
  return (source) => {
    const pullable = pausableOf(source, {
      name: NAME,
      capacity,
      overflow,
      onDrop: opts.onDrop,
      monitor,
      delayError: false, // as boundedBuffer and RxJS: an error is delivered at once
    });
    return demandSource<T>(NAME, (sink) => pacedProducer(upstreamOf(pullable), sink, config));
  };
}

function tickPeriod(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number') throw optionTypeError(NAME, 'period', 'a number of ms >= 0', value);
  if (!(value >= 0) || !Number.isFinite(value)) throw optionRangeError(NAME, 'period', 'a number of ms >= 0', value);
  return timerDelay(NAME, 'period', value);
}

function pacedProducer<T>(upstream: Upstream<T>, sink: ProducerSink<T>, config: PaceConfig): Producer {
  const { count, scheduler, period } = config;
  // Requested upstream and not yet received; never above `count`, so between two ticks at most
  // `count` values arrive however long the frame took.
  let outstanding = 0;
  let tick: Subscription | undefined;
  let ended = false;

  /** Asks upstream for what this tick allows: up to `count`, and never beyond downstream's demand. */
  function topUp(): void {
    const room = Math.min(count, sink.demand) - outstanding;
    if (room <= 0) return;
    outstanding += room;
    upstream.request(room);
  }

  function onTick(): void {
    tick = undefined;
    if (!ended) topUp();
  }

  /** One tick at a time, and only when there is credit to give back. */
  function scheduleTick(): void {
    if (ended || tick !== undefined || outstanding >= Math.min(count, sink.demand)) return;
    tick = scheduler.schedule(onTick, period);
  }

  function onValue(value: T): void {
    outstanding--;
    sink.next(value);
    scheduleTick();
  }

  function connect(): void {
    upstream.connect({ next: onValue, error: (err: unknown) => sink.error(err), complete: () => sink.complete() });
    // The first values are shown at once; the pace applies from the next one on.
    if (!ended) topUp();
  }

  function teardown(cancellation?: Parameters<Upstream<T>['cancel']>[0]): void {
    ended = true;
    const pending = tick;
    tick = undefined;
    pending?.unsubscribe();
    upstream.cancel(cancellation);
  }

  // The kernel pumps when downstream demand grows: the next tick may give credit again.
  return { pump: scheduleTick, teardown, connect };
}
