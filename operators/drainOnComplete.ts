import { asyncScheduler, isObservable, type Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { brandError, isBranded, optionRangeError, optionTypeError } from '../lib/core/errors.js';
import {
  optionalBoolean,
  optionalFunction,
  optionalScheduler,
  optionsObject,
  timerDelay,
} from '../lib/core/validate.js';
import { drain, type DrainConfig, type DrainReport } from '../lib/drain/drain.js';

export type { DrainReport } from '../lib/drain/drain.js';
export type { StageCounts } from '../lib/core/ledger.js';

const NAME = 'drainOnComplete';

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
 * stage counts what it abandoned. The report (to `onReport`, and on a DrainDeadlineError with
 * `deadlineError: true`) says where every accepted value went, by the values that entered the
 * segment (a batch of ten is ten values): `accepted = completed + dropped + failed + aborted +
 * neverStarted + undelivered (+ unaccounted)`, with the same per stage. `neverStarted` values
 * never began their work (safe to queue again after a restart); `undelivered` ones ran, but their
 * results never left the segment (running them again would repeat the work). Unsubscribing from
 * the output aborts at once
 * (reason `'unsubscribed'`). A stop before anything was accepted completes at once.
 *
 * ## Why one operator around the segment
 * Draining needs both ends: the intake, to stop taking values, and the outlet, to know when the
 * last result is out and to cancel what is left at the deadline. A pair of operators could be
 * placed apart wrongly or half forgotten; one operator that wraps the segment cannot.
 *
 * ## Warnings
 * Stages are counted, and reached by the deadline's reason, through the demand handshake: keep
 * the segment made of library stages (native operators inside workers): a native operator that
 * swallows values (`filter`) makes them `unaccounted`, and a stage subscribed later (inside a
 * `retry` in the segment) is not counted.
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
    name: NAME,
    deadlineErrorOf: (report) => new DrainDeadlineError(report),
    deadline,
    stop,
    onReport,
    scheduler,
    deadlineError: optionalBoolean(NAME, 'deadlineError', opts.deadlineError),
    drainSource: optionalBoolean(NAME, 'drainSource', opts.drainSource),
  };
  return (source) => drain(source, segment, config);
}
