import {
  Observable,
  asyncScheduler,
  fromEvent,
  isObservable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import {
  brandError,
  isBranded,
  optionRangeError,
  optionTypeError,
  reportUnhandled,
  returnTypeError,
  type CancelReason,
} from '../lib/core/errors.js';
import { demandSource, type Producer, type ProducerSink } from '../lib/core/producer.js';
import { demandProtocolOf, type AbandonTally } from '../lib/core/protocol.js';
import { upstreamOf, type Upstream } from '../lib/core/upstream.js';
import {
  optionalBoolean,
  optionalFunction,
  optionalScheduler,
  optionsObject,
  timerDelay,
} from '../lib/core/validate.js';
import { pausableOf } from '../lib/queue/absorb.js';

const NAME = 'drainOnComplete';

/** What one stage of the segment held when the drain was cut short. */
export interface StageAbandoned {
  /** The stage, e.g. `mergeWorkers`. */
  readonly operator: string;
  /** Values it held and never passed on: queued, or finished results not yet emitted. */
  readonly queued: number;
  /** Values whose work it aborted. */
  readonly inFlight: number;
}

/** How a drain ended, and what it left behind. */
export interface DrainReport {
  /**
   * `'drained'`: everything accepted was finished (after a stop, or after the source completed);
   * `'deadline'`: the deadline passed and the rest was aborted; `'unsubscribed'`: the output was
   * unsubscribed (an immediate abort); `'error'`: the segment failed.
   */
  readonly outcome: 'drained' | 'deadline' | 'unsubscribed' | 'error';
  /** Values the segment took from the source. */
  readonly accepted: number;
  /** Accepted values that left the segment (emitted, or dropped or failed as its stages count). */
  readonly completed: number;
  /** Values whose running work was aborted. */
  readonly aborted: number;
  /** Values still held when the drain was cut short: queued and never started, or finished but not yet emitted. */
  readonly neverStarted: number;
  /** Per stage, what it abandoned (empty when nothing was). */
  readonly stages: readonly StageAbandoned[];
}

/** Raised instead of completing at the deadline when `deadlineError: true`. */
export class DrainDeadlineError extends Error {
  /** Recognises a DrainDeadlineError from any copy of the library (ESM or CJS build, or another install). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(this, DrainDeadlineError, 'DrainDeadlineError', value);
  }

  override readonly name = 'DrainDeadlineError';
  constructor(
    /** What was done before the deadline, as `onReport` receives it. */
    readonly report: DrainReport,
  ) {
    super(
      `${NAME}: deadline passed with ${report.aborted} value(s) aborted and ${report.neverStarted} never started ` +
        `(${report.completed} of ${report.accepted} completed)`,
    );
    brandError(this, 'DrainDeadlineError');
  }
}

/** The options of {@link drainOnComplete}; `deadline` is required. */
export interface DrainOptions {
  /**
   * When it emits (or aborts, for an AbortSignal) the segment stops taking values from the source
   * and drains. Without it, the drain starts when the source completes.
   */
  stop?: Observable<unknown> | AbortSignal | undefined;
  /**
   * Milliseconds from the start of the drain until whatever is still running is aborted
   * (AbortSignal reason: CancelledError with reason 'deadline'). `Infinity` waits for ever.
   */
  deadline: number;
  /**
   * When true, a stop does not release the source: it starts the deadline clock, and values keep
   * coming until the source completes. For a source that already promised its values a place,
   * such as a channel whose senders were told "queued": close the channel when you stop, and
   * its queued values are drained too (default false: a stop releases the source at once).
   */
  drainSource?: boolean | undefined;
  /** Called once with the report, however the drain ends. */
  onReport?: ((report: DrainReport) => void) | undefined;
  /** Error with a {@link DrainDeadlineError} at the deadline instead of completing (default false). */
  deadlineError?: boolean | undefined;
  /** Times the deadline (default asyncScheduler). */
  scheduler?: SchedulerLike | undefined;
}

/**
 * Graceful shutdown for a segment of a pipeline: stop taking values, finish what was accepted,
 * and abort what is left at a deadline, reporting exactly what was abandoned.
 *
 * ![drainOnComplete](../docs/diagrams/drainOnComplete-deadline.svg)
 *
 * `segment` is the part of the pipeline to drain, e.g.
 * `pipe(boundedBuffer(...), mergeWorkers(...), batchFresh(...))`. When `stop` emits, the
 * source's subscription is released and the segment sees a completion: every library stage
 * then finishes what it holds (queued values, running workers, a partial batch) and emits it,
 * and the output completes. If `deadline` milliseconds pass first, the segment is cancelled with
 * reason `'deadline'`: running workers' signals abort with a CancelledError saying so, and each
 * stage reports what it held. The report (to `onReport`, and on a DrainDeadlineError with
 * `deadlineError: true`) counts accepted, completed, aborted and never-started values, and
 * `completed + aborted + neverStarted = accepted`. Unsubscribing from the output aborts at once
 * (reason `'unsubscribed'`). A stop before anything was accepted completes at once.
 *
 * ## Why one operator around the segment
 * Draining needs both ends: the intake, to stop taking values, and the outlet, to know when the
 * last result is out and to cancel what is left at the deadline. A pair of operators could be
 * placed apart wrongly or half forgotten; one operator that wraps the segment cannot.
 *
 * ## Warnings
 * Stages are counted, and reached by the deadline's reason, through the demand handshake: keep
 * the segment made of library stages (native operators inside workers). The counts assume one
 * value in, one value out per stage (a buffer, a pool whose workers emit one result).
 *
 * Failure modes guarded against: lost work on shutdown (PP-06, ML-02: abort used where drain
 * was meant), sleep-based draining (BP-16), a context that inherits cancellation but not the
 * deadline (BP-20), a wait that never returns (PP-02, WP-05).
 *
 * ## Example
 * ```ts
 * const shutdown = new AbortController();
 * process.once('SIGTERM', () => shutdown.abort());
 * jobs.observable.pipe(
 *   drainOnComplete(pipe(mergeWorkers(handle, { concurrency: 8 })), {
 *     stop: shutdown.signal,
 *     deadline: 10_000,
 *     onReport: (r) => log.info(r),
 *   }),
 * ).subscribe();
 * ```
 *
 * @see {@link mergeWorkers}, {@link boundedBuffer}
 * @param segment The part of the pipeline to drain.
 * @param options The deadline (required), the stop trigger, `onReport`, `deadlineError`,
 * `drainSource` and the scheduler.
 * @return A function that returns the segment's output, drained on stop.
 */
export function drainOnComplete<T, R>(segment: OperatorFunction<T, R>, options: DrainOptions): OperatorFunction<T, R> {
  if (typeof segment !== 'function') throw optionTypeError(NAME, 'segment', 'an OperatorFunction', segment);
  const opts = optionsObject<DrainOptions>(NAME, options, true, [
    'stop',
    'deadline',
    'drainSource',
    'onReport',
    'deadlineError',
    'scheduler',
  ]);
  const deadline = opts.deadline;
  if (typeof deadline !== 'number') throw optionTypeError(NAME, 'deadline', 'a number of milliseconds', deadline);
  if (Number.isNaN(deadline) || deadline < 0) {
    throw optionRangeError(NAME, 'deadline', 'a number of milliseconds >= 0 (or Infinity)', deadline);
  }
  timerDelay(NAME, 'deadline', deadline);
  const stop = opts.stop;
  if (stop !== undefined && !isObservable(stop) && !(stop instanceof AbortSignal)) {
    throw optionTypeError(NAME, 'stop', 'an Observable or an AbortSignal', stop);
  }
  const onReport = optionalFunction<(report: DrainReport) => void>(NAME, 'onReport', opts.onReport);
  const scheduler = optionalScheduler(NAME, 'scheduler', opts.scheduler, asyncScheduler);
  const config: DrainConfig = {
    deadline,
    stop,
    onReport,
    scheduler,
    deadlineError: optionalBoolean(NAME, 'deadlineError', opts.deadlineError),
    drainSource: optionalBoolean(NAME, 'drainSource', opts.drainSource),
  };
  return (source) => demandSource<R>(NAME, (sink) => startDrain(source, segment, config, sink));
}

interface DrainConfig {
  deadline: number;
  stop: Observable<unknown> | AbortSignal | undefined;
  onReport: ((report: DrainReport) => void) | undefined;
  scheduler: SchedulerLike;
  deadlineError: boolean;
  drainSource: boolean;
}

function startDrain<T, R>(
  source: Observable<T>,
  segment: OperatorFunction<T, R>,
  config: DrainConfig,
  sink: ProducerSink<R>,
): Producer {
  let accepted = 0;
  let draining = false;
  let reported = false;
  let intakeClose: (() => void) | undefined;
  let stopSub: Subscription | undefined;
  let deadlineTimer: Subscription | undefined;
  let outlet: Upstream<R> | undefined;
  let outletRelay: DemandRelay | undefined;
  let reportFailure: { err: unknown } | undefined;

  /** Completes, or errors with what onReport threw. */
  function end(): void {
    if (reportFailure !== undefined) sink.error(reportFailure.err);
    else sink.complete();
  }

  // The intake: counts values and can be closed. It is demand-aware only when the source is,
  // so a push source stays push for the segment's first stage (which applies its own policy).
  const intake: Observable<T> =
    demandProtocolOf(source) !== undefined
      ? demandSource<T>(NAME, (gate) => startIntake(source, gate))
      : new Observable<T>((subscriber) => {
          const up = upstreamOf(source);
          intakeClose = () => {
            up.cancel();
            subscriber.complete();
          };
          // Registered before connecting: a segment that stops inside a synchronous burst
          // (an overflow, a take) must stop the source there, not after the burst.
          subscriber.add(() => up.cancel());
          up.connect({
            next(value) {
              if (subscriber.closed) return;
              accepted++;
              subscriber.next(value);
            },
            error: (err) => subscriber.error(err),
            complete() {
              beginDrain(false);
              subscriber.complete();
            },
          });
        });

  function startIntake(src: Observable<T>, gate: ProducerSink<T>): Producer {
    const up = upstreamOf(src);
    const relay = demandRelay(up, gate);
    let closed = false;
    intakeClose = () => {
      if (closed) return;
      closed = true;
      up.cancel();
      gate.complete();
    };
    return {
      connect() {
        up.connect(
          {
            next(value) {
              if (closed) return;
              accepted++;
              relay.received();
              gate.next(value);
            },
            error: (err) => gate.error(err),
            complete() {
              closed = true;
              beginDrain(false);
              gate.complete();
            },
          },
          relay.initial(),
        );
      },
      pump: () => relay.pump(),
      teardown(cancellation) {
        closed = true;
        // The reason goes on upstream, the tally does not: stages before the segment are not
        // this drain's to count.
        up.cancel(cancellation === undefined ? undefined : { reason: cancellation.reason });
      },
    };
  }

  function beginDrain(byStop: boolean): void {
    if (draining) return;
    draining = true;
    stopSub?.unsubscribe();
    stopSub = undefined;
    if (byStop && !config.drainSource) intakeClose?.();
    if (config.deadline !== Infinity && !sink.closed && deadlineTimer === undefined) {
      deadlineTimer = config.scheduler.schedule(onDeadline, config.deadline);
    }
  }

  function report(outcome: DrainReport['outcome'], stages: StageAbandoned[]): DrainReport {
    const aborted = stages.reduce((n, s) => n + s.inFlight, 0);
    const neverStarted = stages.reduce((n, s) => n + s.queued, 0);
    const result: DrainReport = {
      outcome,
      accepted,
      completed: Math.max(0, accepted - aborted - neverStarted),
      aborted,
      neverStarted,
      stages,
    };
    if (!reported) {
      reported = true;
      try {
        config.onReport?.(result);
      } catch (err) {
        // The report callback is the user's; its failure is the stream's, or, once the stream
        // has ended, RxJS's unhandled-error hook's. Never lost, never a hang.
        if (sink.closed) reportUnhandled(err);
        else reportFailure = { err };
      }
    }
    return result;
  }

  /** Cancels the segment; what its stages abandon is also passed to an enclosing drain's tally. */
  function cancelSegment(reason: CancelReason, outer?: AbandonTally): StageAbandoned[] {
    const stages: StageAbandoned[] = [];
    const tally: AbandonTally = {
      record(operator, queued, inFlight) {
        if (queued > 0 || inFlight > 0) stages.push({ operator, queued, inFlight });
        outer?.record(operator, queued, inFlight);
      },
    };
    const out = outlet;
    outlet = undefined;
    out?.cancel({ reason, tally });
    return stages;
  }

  /** A stop trigger that fails is a broken pipeline: fail loudly rather than drain or hang. */
  function onStopError(err: unknown): void {
    if (sink.closed) return;
    clearTimers();
    report('error', cancelSegment('source-failed'));
    sink.error(err);
  }

  function onDeadline(): void {
    deadlineTimer = undefined;
    if (sink.closed) return;
    const stages = cancelSegment('deadline');
    clearTimers();
    const result = report('deadline', stages);
    if (config.deadlineError && reportFailure === undefined) sink.error(new DrainDeadlineError(result));
    else end();
  }

  function clearTimers(): void {
    deadlineTimer?.unsubscribe();
    deadlineTimer = undefined;
    stopSub?.unsubscribe();
    stopSub = undefined;
  }

  function connect(): void {
    const output = segment(intake);
    if (!isObservable(output)) {
      throw returnTypeError(NAME, 'segment', 'an Observable', output);
    }
    // A segment that ends in a native operator cannot be paused; its results are then held in a
    // bounded queue that errors rather than grows when a demand-aware consumer falls behind.
    const pullable = pausableOf(output, {
      name: NAME,
      capacity: 1024,
      overflow: 'error',
      onDrop: undefined,
      monitor: undefined,
      delayError: true,
    });
    const up = upstreamOf(pullable);
    outlet = up;
    outletRelay = demandRelay(up, sink);
    up.connect(
      {
        next(value) {
          outletRelay?.received();
          sink.next(value);
        },
        error(err) {
          outlet = undefined;
          clearTimers();
          report('error', []);
          sink.error(err);
          if (reportFailure !== undefined) reportUnhandled(reportFailure.err);
        },
        complete() {
          outlet = undefined;
          clearTimers();
          report('drained', []);
          end();
        },
      },
      outletRelay.initial(),
    );
    if (sink.closed || draining) return;
    // Subscribed last, so a stop that fires at once finds the intake ready to close.
    const stop = config.stop;
    if (stop instanceof AbortSignal) {
      if (stop.aborted) beginDrain(true);
      else stopSub = fromEvent(stop, 'abort').subscribe(() => beginDrain(true));
    } else if (stop !== undefined) {
      stopSub = stop.subscribe({ next: () => beginDrain(true), error: onStopError });
    }
    // A stop that fired inside subscribe() may have drained and ended everything before the
    // subscription was held: release it (and any timer) now.
    if (sink.closed) clearTimers();
  }

  return {
    connect,
    pump() {
      outletRelay?.pump();
    },
    teardown(cancellation) {
      clearTimers();
      if (outlet !== undefined) {
        const stages = cancelSegment(cancellation?.reason ?? 'unsubscribed', cancellation?.tally);
        report('unsubscribed', stages);
        if (reportFailure !== undefined) reportUnhandled(reportFailure.err);
      }
    },
  };
}

interface DemandRelay {
  /** What to ask for when connecting (the demand already there). */
  initial(): number | undefined;
  /** Asks upstream for whatever downstream demand is not yet covered. */
  pump(): void;
  /** One requested value arrived. */
  received(): void;
}

/** Passes downstream demand upstream one-for-one, for a stage that holds nothing itself. */
function demandRelay(up: Upstream<unknown>, sink: ProducerSink<unknown>): DemandRelay {
  let outstanding = 0;
  return {
    initial() {
      outstanding = sink.demand;
      return sink.demand > 0 ? sink.demand : undefined;
    },
    pump() {
      if (outstanding === Infinity || sink.closed) return;
      const want = sink.demand - outstanding;
      if (want > 0) {
        outstanding = sink.demand;
        up.request(want);
      }
    },
    received() {
      if (outstanding !== Infinity && outstanding > 0) outstanding--;
    },
  };
}
