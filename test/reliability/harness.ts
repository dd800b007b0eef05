/**
 * The reliability harness: a virtual-time world, spies placed between stages that check the
 * demand handshake on every hop, fixtures (sources, workers, stop triggers) that count their own
 * subscriptions, and consumers (plain or demand-aware) that end a run and check for leaks.
 *
 * Everything runs on one TestScheduler in run mode, so nothing depends on wall-clock speed, and
 * every timer anyone starts (the library's retry, batch and deadline timers, the fixtures' own)
 * is an action on that scheduler: a run that ends with actions left has leaked a timer.
 */
import type fc from 'fast-check';
import { Observable, finalize, tap, type MonoTypeOperatorFunction, type Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { PROTOCOL_VERSION, demandProtocolOf, toDemandObservable, type DemandHandle } from '../../lib/core/protocol.js';
import type { WorkContext } from '../../index.js';

// ---- fast-check parameters from the environment --------------------------------------------------

/**
 * `FC_RUNS` (default 200) sets the cases per property; `FC_SEED` and `FC_PATH` replay a failure
 * that fast-check reported (`seed` and `path` are printed with every counterexample). Use them
 * with `-t '<property title>'` so that only the failing property replays the path.
 */
export function fcParams(defaultRuns = 200): Pick<fc.Parameters<unknown>, 'numRuns' | 'seed' | 'path'> {
  const runs = Number(process.env.FC_RUNS ?? defaultRuns);
  const params: Pick<fc.Parameters<unknown>, 'numRuns' | 'seed' | 'path'> = {
    numRuns: Number.isInteger(runs) && runs > 0 ? runs : defaultRuns,
  };
  if (process.env.FC_SEED !== undefined && process.env.FC_SEED !== '') params.seed = Number(process.env.FC_SEED);
  if (process.env.FC_PATH !== undefined && process.env.FC_PATH !== '') params.path = process.env.FC_PATH;
  return params;
}

// ---- the world ----------------------------------------------------------------------------------

/** An error a fixture raised, with the moment (global sequence number) it was signalled. */
export interface ErrorEvent {
  readonly err: unknown;
  readonly seq: number;
  readonly origin: string;
}

/** One run in virtual time. */
export class World {
  /** Violations found while running; a run passes when this stays empty. */
  readonly violations: string[] = [];
  private seq = 0;
  private readonly driven = new Set<Subscription>();

  constructor(readonly scheduler: TestScheduler) {}

  /** A global, strictly increasing event number (virtual time alone cannot order same-frame events). */
  tick(): number {
    return ++this.seq;
  }

  now(): number {
    return this.scheduler.now();
  }

  /**
   * Schedules a driver action (a send into a channel, an unsubscribe, a consumer's request) at an
   * absolute frame. Driver actions belong to the test, not to the pipeline: `stopDriving()`
   * cancels those still pending before the leak check.
   */
  at(frame: number, fn: () => void): void {
    const action: Subscription = this.scheduler.schedule(
      () => {
        this.driven.delete(action);
        fn();
      },
      Math.max(0, frame - this.now()),
    );
    this.driven.add(action);
  }

  stopDriving(): void {
    for (const action of this.driven) action.unsubscribe();
    this.driven.clear();
  }

  /** Timers still scheduled; after stopDriving() they can only be the pipeline's. */
  pendingActions(): number {
    return this.scheduler.actions.length;
  }

  violation(message: string): void {
    if (this.violations.length < 20 && !this.violations.includes(message)) this.violations.push(message);
  }
}

/**
 * Runs `body` in virtual time (TestScheduler run mode, so even a default asyncScheduler is
 * virtual). `maxFrames` bounds a run that would otherwise never stop (a timer rescheduling itself).
 */
export function inVirtualTime<T>(body: (world: World) => T, maxFrames = 5_000): T {
  const scheduler = new TestScheduler((actual, expected) => {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error('unexpected marble assertion');
  });
  let result: { value: T } | undefined;
  scheduler.run(() => {
    scheduler.maxFrames = maxFrames;
    result = { value: body(new World(scheduler)) };
  });
  return result!.value;
}

// ---- hops: spies between stages -------------------------------------------------------------------

/** What one hop (the connection between two stages) saw. */
export interface Hop {
  readonly name: string;
  /** True when the upstream side spoke the demand handshake. */
  demandAware: boolean;
  subscribes: number;
  /** Subscriptions that ended: a terminal signal delivered, or cancelled/unsubscribed downstream. */
  ends: number;
  cancels: number;
  nexts: number;
  completes: number;
  readonly values: unknown[];
  readonly errors: ErrorEvent[];
  /** Sequence numbers of each next, to replay occupancy (window, in flight) afterwards. */
  readonly nextSeqs: number[];
}

/**
 * A transparent spy: keeps the handshake when the source has one (so it can sit between two
 * library stages) and checks it on the way: start first and once, never more values than
 * requested (rule 1.1), no re-entrant next (1.3), nothing after a terminal signal or a cancel
 * (1.7, 3.6), and only valid requests from a library stage (3.9). Plain sources are passed on
 * as plain Observables, with the subscription counted.
 */
export function hop<T>(world: World, name: string): { log: Hop; op: MonoTypeOperatorFunction<T> } {
  const log: Hop = {
    name,
    demandAware: false,
    subscribes: 0,
    ends: 0,
    cancels: 0,
    nexts: 0,
    completes: 0,
    values: [],
    errors: [],
    nextSeqs: [],
  };
  const op: MonoTypeOperatorFunction<T> = (source) => {
    const protocol = demandProtocolOf(source);
    if (protocol === undefined) {
      return new Observable<T>((subscriber) => {
        log.subscribes++;
        let ended = false;
        const end = (): void => {
          if (!ended) {
            ended = true;
            log.ends++;
          }
        };
        subscriber.add(() => {
          if (!ended) log.cancels++;
          end();
        });
        // Subscribed with `subscriber` itself, through tap, so the chain stays linked as RxJS
        // operators link it: an unsubscribe during a synchronous burst closes the source at once.
        source
          .pipe(
            tap({
              next(value) {
                if (ended) world.violation(`${name}: next after the end of the subscription`);
                log.nexts++;
                log.values.push(value);
                log.nextSeqs.push(world.tick());
              },
              error(err: unknown) {
                if (ended) world.violation(`${name}: error after the end of the subscription`);
                end();
                log.errors.push({ err, seq: world.tick(), origin: name });
              },
              complete() {
                if (ended) world.violation(`${name}: complete after the end of the subscription`);
                end();
                log.completes++;
              },
            }),
          )
          .subscribe(subscriber);
      });
    }
    log.demandAware = true;
    return toDemandObservable<T>({
      version: PROTOCOL_VERSION,
      subscribe(observer) {
        log.subscribes++;
        let upstream: DemandHandle | undefined;
        let started = false;
        let ended = false;
        let requested = 0;
        let delivered = 0;
        let depth = 0;
        const end = (): void => {
          if (!ended) {
            ended = true;
            log.ends++;
          }
        };
        const check = (signal: string): boolean => {
          if (!started) world.violation(`${name}: ${signal} before start (onSubscribe first)`);
          if (ended) {
            world.violation(`${name}: ${signal} after a terminal signal or a cancel (rules 1.7, 3.6)`);
            return false;
          }
          return true;
        };
        const handle: DemandHandle = {
          request(n) {
            if (!ended) {
              if (typeof n !== 'number' || !(n > 0)) world.violation(`${name}: a stage requested ${String(n)}`);
              else requested += n;
            }
            upstream?.request(n);
          },
          cancel(cancellation) {
            if (!ended) log.cancels++;
            end();
            upstream?.cancel(cancellation);
          },
        };
        const returned = protocol.subscribe({
          start(h) {
            if (started) world.violation(`${name}: start called twice`);
            started = true;
            upstream = h;
            observer.start?.(handle);
          },
          next(value) {
            if (!check('next')) return;
            delivered++;
            if (delivered > requested) {
              world.violation(`${name}: next #${delivered} with only ${requested} requested (rule 1.1)`);
            }
            if (depth > 0) world.violation(`${name}: re-entrant next (rule 1.3)`);
            log.nexts++;
            log.values.push(value);
            log.nextSeqs.push(world.tick());
            depth++;
            try {
              observer.next(value);
            } finally {
              depth--;
            }
          },
          error(err) {
            if (!check('error')) return;
            end();
            log.errors.push({ err, seq: world.tick(), origin: name });
            observer.error(err);
          },
          complete() {
            if (!check('complete')) return;
            end();
            log.completes++;
            observer.complete();
          },
        });
        if (!started) {
          world.violation(`${name}: subscribe() returned without calling start`);
          upstream = returned;
        }
        return handle;
      },
    });
  };
  return { log, op };
}

// ---- fixtures ----------------------------------------------------------------------------------

/** Counts of a fixture's subscriptions (or iterators). */
export interface Lifecycle {
  opened: number;
  closed: number;
}

/** A push source on the world's clock: `syncPrefix` values inside subscribe, then one per gap. */
export interface PushPlan {
  readonly syncPrefix: number;
  readonly gaps: readonly number[];
  readonly end: 'complete' | 'error' | 'never';
  readonly endGap: number;
}

export function pushSource(
  world: World,
  plan: PushPlan,
  errors: ErrorEvent[],
): { source: Observable<number>; life: Lifecycle; emitted: () => number } {
  const life: Lifecycle = { opened: 0, closed: 0 };
  let emitted = 0;
  const source = new Observable<number>((subscriber) => {
    life.opened++;
    const actions: Subscription[] = [];
    let next = 0;
    const emit = (): void => {
      emitted++;
      subscriber.next(next++);
    };
    for (let i = 0; i < plan.syncPrefix && !subscriber.closed; i++) emit();
    let frame = 0;
    for (const gap of plan.gaps) {
      frame += gap;
      actions.push(world.scheduler.schedule(emit, frame));
    }
    if (plan.end !== 'never') {
      actions.push(
        world.scheduler.schedule(() => {
          if (plan.end === 'complete') {
            subscriber.complete();
            return;
          }
          const err = new Error(`source error after ${next} values`);
          errors.push({ err, seq: world.tick(), origin: 'source' });
          subscriber.error(err);
        }, frame + plan.endGap),
      );
    }
    return () => {
      life.closed++;
      for (const action of actions) action.unsubscribe();
    };
  });
  return { source, life, emitted: () => emitted };
}

/** A synchronous iterable of 0..n-1 that throws instead of yielding `throwAt`; counts iterators. */
export function pullIterable(
  world: World,
  n: number,
  throwAt: number | undefined,
  errors: ErrorEvent[],
): { iterable: Iterable<number>; life: Lifecycle; pulled: () => number } {
  const life: Lifecycle = { opened: 0, closed: 0 };
  let pulled = 0;
  const iterable: Iterable<number> = {
    *[Symbol.iterator]() {
      life.opened++;
      try {
        for (let i = 0; i < n; i++) {
          if (i === throwAt) {
            const err = new Error(`iterator error at ${i}`);
            errors.push({ err, seq: world.tick(), origin: 'source' });
            throw err;
          }
          pulled++;
          yield i;
        }
      } finally {
        life.closed++;
      }
    },
  };
  return { iterable, life, pulled: () => pulled };
}

/** An Observable that emits once at `frame` after it is subscribed (a stop trigger). */
export function signalAt(world: World, frame: number): { source: Observable<void>; life: Lifecycle } {
  const life: Lifecycle = { opened: 0, closed: 0 };
  const source = new Observable<void>((subscriber) => {
    life.opened++;
    const action = world.scheduler.schedule(() => subscriber.next(), frame);
    return () => {
      life.closed++;
      action.unsubscribe();
    };
  });
  return { source, life };
}

/** How the worker treats one value: `duration` frames per attempt, the first `failAttempts` fail. */
export interface WorkPlan {
  readonly duration: number;
  readonly failAttempts: number;
  /** A failing attempt of duration 0 throws from the worker function instead of erroring. */
  readonly syncThrow: boolean;
  /**
   * Results per successful attempt (default 1): `value`, `value + 0.25`, `value + 0.5`. With two
   * or more and a duration of 2 frames or more, the first comes half-way (a streaming inner).
   */
  readonly results?: number;
}

/** One call of the worker. */
export interface Attempt {
  readonly value: number;
  readonly attempt: number;
  readonly signal: AbortSignal;
  finished: boolean;
}

export interface WorkerFixture {
  work: (value: number, context: WorkContext) => Observable<number>;
  life: Lifecycle;
  attempts: Attempt[];
  active: () => number;
  maxActive: () => number;
  /** Final failures signalled to the pool (the pool's own errors, for the first-error check). */
  finalFailures: ErrorEvent[];
  /** Sequence numbers at which a value failed for good (for occupancy replays). */
  failSeqs: number[];
}

/**
 * A worker on the world's clock. Each value's plan is `plans[value % plans.length]`; an attempt is
 * final when no retry is left (`attempt > retries`). Records every signal handed out and whether
 * its work finished, and how many inners run at once.
 */
export function workerFixture(world: World, plans: readonly WorkPlan[], retries: number): WorkerFixture {
  const life: Lifecycle = { opened: 0, closed: 0 };
  const attempts: Attempt[] = [];
  const finalFailures: ErrorEvent[] = [];
  const failSeqs: number[] = [];
  let active = 0;
  let maxActive = 0;
  const planOf = (value: number): WorkPlan => plans[value % plans.length]!;
  const failure = (record: Attempt): Error => {
    const err = new Error(`work failed: value ${record.value}, attempt ${record.attempt}`);
    if (record.attempt > retries) {
      const seq = world.tick();
      finalFailures.push({ err, seq, origin: 'worker' });
      failSeqs.push(seq);
    }
    return err;
  };
  const work = (value: number, context: WorkContext): Observable<number> => {
    const plan = planOf(value);
    const record: Attempt = { value, attempt: context.attempt, signal: context.signal, finished: false };
    attempts.push(record);
    const fails = context.attempt <= plan.failAttempts;
    if (fails && plan.duration === 0 && plan.syncThrow) {
      record.finished = true;
      throw failure(record);
    }
    return new Observable<number>((subscriber) => {
      life.opened++;
      active++;
      maxActive = Math.max(maxActive, active);
      const results = plan.results ?? 1;
      let emitted = 0;
      const emit = (upTo: number): void => {
        while (emitted < upTo && !subscriber.closed) subscriber.next(value + emitted++ / 4);
      };
      const finish = (): void => {
        record.finished = true;
        if (fails) {
          subscriber.error(failure(record));
        } else {
          emit(results);
          subscriber.complete();
        }
      };
      const early =
        results >= 2 && plan.duration >= 2 && !fails
          ? world.scheduler.schedule(() => emit(1), Math.floor(plan.duration / 2))
          : undefined;
      const action = plan.duration === 0 ? undefined : world.scheduler.schedule(finish, plan.duration);
      if (action === undefined) finish();
      return () => {
        active--;
        life.closed++;
        early?.unsubscribe();
        action?.unsubscribe();
      };
    });
  };
  return {
    work,
    life,
    attempts,
    active: () => active,
    maxActive: () => maxActive,
    finalFailures,
    failSeqs,
  };
}

// ---- consumers -----------------------------------------------------------------------------------

/** An ordinary subscriber (unbounded demand), or a demand-aware one that asks again after each value. */
export type ConsumerPlan =
  | { readonly kind: 'plain' }
  | { readonly kind: 'pull'; readonly initial: number; readonly delay: number; readonly amount: number };

/** How a run ended, as the consumer saw it. */
export interface Outcome {
  readonly values: unknown[];
  error: ErrorEvent | undefined;
  completed: boolean;
  /** The consumer unsubscribed (at its planned time, or because the run was exhausted). */
  cancelled: boolean;
  /** The run ended on its own (terminal signal or planned unsubscribe) before the scheduler ran dry. */
  endedInTime: boolean;
  endFrame: number | undefined;
  /** Timers left on the scheduler at the moment the run ended (after the driver's were cancelled). */
  leakedActions: number;
  signalsAfterEnd: number;
}

/**
 * Subscribes `source` with the consumer plan, unsubscribes at `unsubscribeAt` (if given), flushes
 * the scheduler and ends the run. At the end (terminal signal, unsubscribe, or the scheduler ran
 * dry and the consumer gave up) the driver's actions are cancelled and the scheduler must be
 * empty: whatever is left is a timer the pipeline leaked.
 */
export function consume(
  world: World,
  source: Observable<unknown>,
  plan: ConsumerPlan,
  unsubscribeAt: number | undefined,
): Outcome {
  const outcome: Outcome = {
    values: [],
    error: undefined,
    completed: false,
    cancelled: false,
    endedInTime: false,
    endFrame: undefined,
    leakedActions: 0,
    signalsAfterEnd: 0,
  };
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    outcome.endFrame = world.now();
    world.stopDriving();
    outcome.leakedActions = world.pendingActions();
  };
  const afterEnd = (): boolean => {
    if (ended || outcome.error !== undefined || outcome.completed) {
      outcome.signalsAfterEnd++;
      return true;
    }
    return false;
  };
  let cancel: () => void;
  if (plan.kind === 'plain') {
    const subscription = source.pipe(finalize(end)).subscribe({
      next(value) {
        if (afterEnd()) return;
        outcome.values.push(value);
      },
      error(err: unknown) {
        if (afterEnd()) return;
        outcome.error = { err, seq: world.tick(), origin: 'consumer' };
      },
      complete() {
        if (afterEnd()) return;
        outcome.completed = true;
      },
    });
    cancel = () => {
      outcome.cancelled = true;
      subscription.unsubscribe();
    };
  } else {
    const protocol = demandProtocolOf(source);
    if (protocol === undefined) throw new Error('consume: a pull consumer needs a demand-aware source');
    let handle: DemandHandle | undefined;
    protocol.subscribe({
      start(h) {
        handle = h;
        h.request(plan.initial);
      },
      next(value) {
        if (afterEnd()) return;
        outcome.values.push(value);
        if (plan.delay === 0) handle?.request(plan.amount);
        else world.at(world.now() + plan.delay, () => handle?.request(plan.amount));
      },
      error(err) {
        if (afterEnd()) return;
        outcome.error = { err, seq: world.tick(), origin: 'consumer' };
        end();
      },
      complete() {
        if (afterEnd()) return;
        outcome.completed = true;
        end();
      },
    });
    cancel = () => {
      outcome.cancelled = true;
      handle?.cancel();
      end();
    };
  }
  if (unsubscribeAt !== undefined) {
    world.at(unsubscribeAt, () => {
      if (!ended) cancel();
    });
  }
  world.scheduler.flush();
  outcome.endedInTime = ended;
  if (!ended) cancel();
  world.scheduler.flush();
  return outcome;
}
