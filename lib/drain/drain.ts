import {
  Observable,
  fromEvent,
  isObservable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { reportUnhandled, returnTypeError, type CancelReason } from '../core/errors.js';
import { Credit } from '../core/credit.js';
import { Ledger, currentLedger, withLedger, type StageCounts } from '../core/ledger.js';
import { demandSource, type Producer, type ProducerSink } from '../core/producer.js';
import { demandProtocolOf, type Cancellation, type DemandObservable } from '../core/protocol.js';
import { upstreamOf, type Upstream } from '../core/upstream.js';
import { pausableOf } from '../queue/absorb.js';

/**
 * How a drain ended, and where every value that entered the segment went. The counts obey the
 * conservation law (docs/design.md): `accepted = completed + dropped + failed + aborted +
 * neverStarted + undelivered + unaccounted`, by values that entered the segment (a batch of ten
 * is ten values; a worker with several results is one).
 */
export interface DrainReport {
  /**
   * `'drained'`: the segment finished everything it had (after a stop, or after the source
   * completed); `'deadline'`: the deadline passed and the rest was aborted; `'unsubscribed'`:
   * the output was unsubscribed (an immediate abort); `'error'`: the segment failed.
   */
  readonly outcome: 'drained' | 'deadline' | 'unsubscribed' | 'error';
  /** Values the segment took from the source. */
  readonly accepted: number;
  /** Values whose results left the segment (or whose work finished with no result). */
  readonly completed: number;
  /** Values an overflow policy inside the segment dropped. */
  readonly dropped: number;
  /** Values whose work failed for good. */
  readonly failed: number;
  /** Values whose running work was aborted. */
  readonly aborted: number;
  /** Values no work had begun on when the segment ended: safe to queue again after a restart. */
  readonly neverStarted: number;
  /** Values whose work finished but whose results never left the segment: not safe to run again. */
  readonly undelivered: number;
  /**
   * Values no stage could account for: only a native operator inside the segment that swallows
   * values (`filter`, `take`) makes this non-zero. Keep segments made of library stages.
   */
  readonly unaccounted: number;
  /** Per stage, in pipeline order, what it dropped, failed, aborted or held (only stages that lost any). */
  readonly stages: readonly StageCounts[];
}

/** @internal The resolved options of drainOnComplete. */
export interface DrainConfig {
  name: string;
  deadline: number;
  stop: Observable<unknown> | AbortSignal | undefined;
  onReport: ((report: DrainReport) => void) | undefined;
  scheduler: SchedulerLike;
  deadlineError: boolean;
  drainSource: boolean;
  /** Makes the error raised at the deadline under `deadlineError`. */
  deadlineErrorOf: (report: DrainReport) => unknown;
}

/** @internal The engine behind drainOnComplete. */
export function drain<T, R>(
  source: Observable<T>,
  segment: OperatorFunction<T, R>,
  config: DrainConfig,
): DemandObservable<R> {
  return demandSource<R>(config.name, (sink) => new Drain(source, segment, config, sink));
}

/**
 * One subscription of drainOnComplete: the intake that counts and can be closed, the outlet that
 * relays demand, the stop trigger, the deadline, and the report.
 */
class Drain<T, R> implements Producer {
  private accepted = 0;
  private draining = false;
  private reported = false;
  private intakeClose: (() => void) | undefined = undefined;
  private stopSub: Subscription | undefined = undefined;
  private deadlineTimer: Subscription | undefined = undefined;
  private outlet: Upstream<R> | undefined = undefined;
  private outletCredit: Credit | undefined = undefined;
  private reportFailure: { err: unknown } | undefined = undefined;
  private readonly ledger: Ledger;

  constructor(
    private readonly source: Observable<T>,
    private readonly segment: OperatorFunction<T, R>,
    private readonly config: DrainConfig,
    private readonly sink: ProducerSink<R>,
  ) {
    this.ledger = new Ledger(currentLedger());
  }

  // ---- the intake: counts values, and can be closed ---------------------------------------------

  /**
   * Pausable only when the source is, so a push source stays push for the segment's first
   * stage (which applies its own policy).
   */
  private makeIntake(): Observable<T> {
    if (demandProtocolOf(this.source) !== undefined) {
      return demandSource<T>(this.config.name, (gate) => this.startPausableIntake(gate));
    }
    return new Observable<T>((subscriber) => {
      const up = upstreamOf(this.source);
      this.intakeClose = () => {
        up.cancel();
        subscriber.complete();
      };
      // Registered before connecting: a segment that stops inside a synchronous burst (an
      // overflow, a take) must stop the source there, not after the burst.
      subscriber.add(() => up.cancel());
      this.outside(() =>
        up.connect({
          next: (value) => {
            if (subscriber.closed) return;
            this.take();
            subscriber.next(value);
          },
          error: (err) => subscriber.error(err),
          complete: () => {
            this.beginDrain(false);
            subscriber.complete();
          },
        }),
      );
    });
  }

  private startPausableIntake(gate: ProducerSink<T>): Producer {
    const up = upstreamOf(this.source);
    const credit = new Credit(up);
    let closed = false;
    this.intakeClose = () => {
      if (closed) return;
      closed = true;
      up.cancel();
      gate.complete();
    };
    const observer = {
      next: (value: T) => {
        if (closed) return;
        credit.received();
        this.take();
        gate.next(value);
      },
      error: (err: unknown) => gate.error(err),
      complete: () => {
        closed = true;
        this.beginDrain(false);
        gate.complete();
      },
    };
    return {
      connect: () => {
        credit.expect(gate.demand);
        this.outside(() => up.connect(observer, gate.demand > 0 ? gate.demand : undefined));
      },
      pump: () => {
        if (!gate.closed) credit.topUp(gate.demand);
      },
      teardown(cancellation) {
        closed = true;
        // The reason goes on upstream; the stages before the segment are not this drain's to count.
        up.cancel(cancellation === undefined ? undefined : { reason: cancellation.reason });
      },
    };
  }

  /** Subscribes the stages before the segment: they belong to an enclosing drain, if any. */
  private outside(subscribe: () => void): void {
    withLedger(this.ledger.parent, subscribe);
  }

  /** One value enters the segment, weighing one (lib/core/ledger.ts). */
  private take(): void {
    this.accepted++;
    this.ledger.parent?.receive(); // its weight in an enclosing drain stays with this one
    this.ledger.send(1, false);
  }

  // ---- the outlet: relays demand, and ends the drain ---------------------------------------------

  connect(): void {
    const output = this.segment(this.makeIntake());
    if (!isObservable(output)) {
      throw returnTypeError(this.config.name, 'segment', 'an Observable', output);
    }
    // A segment that ends in a native operator cannot be paused; its results are then held in a
    // bounded queue that errors rather than grows when a pulling consumer falls behind.
    const pausable = withLedger(this.ledger, () =>
      pausableOf(output, {
        name: this.config.name,
        capacity: 1024,
        overflow: 'error',
        onDrop: undefined,
        monitor: undefined,
        delayError: true,
      }),
    );
    const up = upstreamOf(pausable);
    this.outlet = up;
    const credit = (this.outletCredit = new Credit(up));
    const demand = this.sink.demand;
    credit.expect(demand);
    withLedger(this.ledger, () =>
      up.connect(
        {
          next: (value) => this.onOutput(value),
          error: (err) => this.onSegmentError(err),
          complete: () => this.onSegmentComplete(),
        },
        demand > 0 ? demand : undefined,
      ),
    );
    if (this.sink.closed || this.draining) return;
    this.followStop();
    // A stop that fired inside subscribe() may have drained and ended everything before the
    // subscription was held: release it (and any timer) now.
    if (this.sink.closed) this.clearTimers();
  }

  private onOutput(value: R): void {
    this.outletCredit?.received();
    const weight = this.ledger.receive();
    this.ledger.completed += weight;
    this.ledger.parent?.send(weight, true);
    this.sink.next(value);
  }

  private onSegmentError(err: unknown): void {
    this.outlet = undefined;
    this.clearTimers();
    this.report('error');
    this.sink.error(err);
    if (this.reportFailure !== undefined) reportUnhandled(this.reportFailure.err);
  }

  private onSegmentComplete(): void {
    this.outlet = undefined;
    this.clearTimers();
    this.report('drained');
    this.end();
  }

  pump(): void {
    if (!this.sink.closed) this.outletCredit?.topUp(this.sink.demand);
  }

  /** Completes, or errors with what onReport threw. */
  private end(): void {
    if (this.reportFailure !== undefined) this.sink.error(this.reportFailure.err);
    else this.sink.complete();
  }

  // ---- stopping, and the deadline ----------------------------------------------------------------

  /** Subscribed last, so a stop that fires at once finds the intake ready to close. */
  private followStop(): void {
    const stop = this.config.stop;
    if (stop instanceof AbortSignal) {
      if (stop.aborted) this.beginDrain(true);
      else this.stopSub = fromEvent(stop, 'abort').subscribe(() => this.beginDrain(true));
    } else if (stop !== undefined) {
      this.stopSub = stop.subscribe({ next: () => this.beginDrain(true), error: (err) => this.onStopError(err) });
    }
  }

  private beginDrain(byStop: boolean): void {
    if (this.draining) return;
    this.draining = true;
    this.stopSub?.unsubscribe();
    this.stopSub = undefined;
    if (byStop && !this.config.drainSource) this.intakeClose?.();
    if (this.config.deadline !== Infinity && !this.sink.closed && this.deadlineTimer === undefined) {
      this.deadlineTimer = this.config.scheduler.schedule(() => this.onDeadline(), this.config.deadline);
    }
  }

  /** A stop trigger that fails is a broken pipeline: fail loudly rather than drain or hang. */
  private onStopError(err: unknown): void {
    if (this.sink.closed) return;
    this.clearTimers();
    this.cancelSegment('source-failed');
    this.report('error');
    this.sink.error(err);
  }

  private onDeadline(): void {
    this.deadlineTimer = undefined;
    if (this.sink.closed) return;
    this.cancelSegment('deadline');
    this.clearTimers();
    const result = this.report('deadline');
    if (this.config.deadlineError && this.reportFailure === undefined) {
      this.sink.error(this.config.deadlineErrorOf(result));
    } else {
      this.end();
    }
  }

  /** Cancels the segment: every stage in it counts what it abandons in the ledger. */
  private cancelSegment(reason: CancelReason): void {
    const out = this.outlet;
    this.outlet = undefined;
    out?.cancel({ reason });
  }

  private clearTimers(): void {
    this.deadlineTimer?.unsubscribe();
    this.deadlineTimer = undefined;
    this.stopSub?.unsubscribe();
    this.stopSub = undefined;
  }

  teardown(cancellation?: Cancellation): void {
    this.clearTimers();
    if (this.outlet === undefined) return;
    this.cancelSegment(cancellation?.reason ?? 'unsubscribed');
    this.report('unsubscribed');
    if (this.reportFailure !== undefined) reportUnhandled(this.reportFailure.err);
  }

  // ---- the report --------------------------------------------------------------------------------

  private report(outcome: DrainReport['outcome']): DrainReport {
    const ledger = this.ledger;
    const dropped = ledger.total('dropped');
    const failed = ledger.total('failed');
    const aborted = ledger.total('aborted');
    const neverStarted = ledger.total('neverStarted');
    const undelivered = ledger.total('undelivered');
    const completed = ledger.completed;
    const settled = completed + dropped + failed + aborted + neverStarted + undelivered;
    const result: DrainReport = {
      outcome,
      accepted: this.accepted,
      completed,
      dropped,
      failed,
      aborted,
      neverStarted,
      undelivered,
      unaccounted: Math.max(0, this.accepted - settled),
      stages: ledger.stages(),
    };
    if (!this.reported) {
      this.reported = true;
      this.deliverReport(result);
    }
    return result;
  }

  private deliverReport(result: DrainReport): void {
    try {
      this.config.onReport?.(result);
    } catch (err) {
      // The report callback is the user's; its failure is the stream's, or, once the stream has
      // ended, RxJS's unhandled-error hook's. Never lost, never a hang.
      if (this.sink.closed) reportUnhandled(err);
      else this.reportFailure = { err };
    }
  }
}
