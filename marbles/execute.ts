import { Subscription, type Observable, type SchedulerLike } from 'rxjs';
import { TestScheduler, type RunHelpers } from 'rxjs/testing';
import { demandSource, type Producer, type ProducerSink } from '../lib/core/producer.js';
import {
  demandProtocolOf,
  toDemandObservable,
  type DemandHandle,
  type DemandObserver,
  type DemandProtocol,
} from '../lib/core/protocol.js';
import type { AnyMarbleCase, CaseHelpers, MarbleStream } from './case.js';
import { parseRunMarbles, type ParsedMessage } from './timeline.js';

/*
 * Running a case without asserting anything: the part of the harness that vitest (marbles/run.ts)
 * and the playground page share. Nothing here imports vitest, so it bundles into a browser page.
 */

/** A subscription as RxJS's TestScheduler logs it (Infinity: never unsubscribed). */
export interface SubscriptionRecord {
  subscribedFrame: number;
  unsubscribedFrame: number;
}

/** A cold, hot or pull observable made inside a run: it records its subscriptions. */
export type TestStream = Observable<unknown> & { readonly subscriptions: readonly SubscriptionRecord[] };

/** One `request(n)` a stage made of a pull source (or of an `observeDemand`-wrapped stream). */
export interface DemandRequest {
  readonly frame: number;
  readonly n: number;
}

/** A case wired on a scheduler, ready to be subscribed. */
export interface CaseSetup {
  readonly source: TestStream;
  readonly inner: Readonly<Record<string, TestStream>>;
  readonly helpers: CaseHelpers<unknown, Record<string, unknown>>;
  readonly output$: Observable<unknown>;
  /** Filled as the run goes: every request made of the pull source and of `observeDemand` streams. */
  readonly demand: readonly DemandRequest[];
}

/** Builds the source, the inner streams, the helpers and the stage of a case, inside `scheduler.run`. */
export function setUpCase(c: AnyMarbleCase, scheduler: TestScheduler, run: RunHelpers): CaseSetup {
  const demand: DemandRequest[] = [];
  const observeDemand = <T>(source$: Observable<T>): Observable<T> => recordDemand(source$, scheduler, demand);
  const source = makeSource(c, run, scheduler, demand);
  const inner = makeInner(c, run);
  const base = { scheduler, inner, cold: run.cold, hot: run.hot, time: run.time, observeDemand };
  // context() sees the helpers without a context; everything after it sees this run's context.
  const context: unknown = c.context?.({ ...base, context: undefined });
  const helpers = { ...base, context };
  return { source, inner, helpers, output$: applyStage(c, source, helpers), demand };
}

/** What one run of a case produced, read after the scheduler has flushed. */
export interface CaseOutcome {
  /** The output's notifications at absolute frames (what `expectObservable` compares). */
  readonly output: readonly ParsedMessage[];
  readonly subscriptions: {
    readonly source: readonly SubscriptionRecord[];
    readonly inner: Readonly<Record<string, readonly SubscriptionRecord[]>>;
  };
  readonly demand: readonly DemandRequest[];
}

/**
 * Runs a case on a fresh TestScheduler and returns what happened, asserting nothing. The output
 * is subscribed and unsubscribed exactly as `expectObservable(output$, c.unsubscribe)` does.
 * Throws what the case throws (e.g. an operator refusing its options).
 */
export function executeCase(c: AnyMarbleCase): CaseOutcome {
  const scheduler = new TestScheduler(() => undefined);
  let outcome: CaseOutcome | undefined;
  scheduler.run((run) => {
    const setup = setUpCase(c, scheduler, run);
    const output = recordOutput(setup.output$, scheduler, c.unsubscribe);
    run.flush();
    outcome = {
      output,
      subscriptions: {
        source: [...setup.source.subscriptions],
        inner: Object.fromEntries(Object.entries(setup.inner).map(([name, s]) => [name, [...s.subscriptions]])),
      },
      demand: [...setup.demand],
    };
  });
  if (outcome === undefined) throw new Error(`marble case '${c.id}': the scheduler did not run`);
  return outcome;
}

function recordOutput(output$: Observable<unknown>, scheduler: TestScheduler, unsubscribe?: string): ParsedMessage[] {
  const messages: ParsedMessage[] = [];
  const log = unsubscribe === undefined ? undefined : TestScheduler.parseMarblesAsSubscriptions(unsubscribe, true);
  const from = log === undefined || log.subscribedFrame === Infinity ? 0 : log.subscribedFrame;
  const to = log?.unsubscribedFrame ?? Infinity;
  let subscription: Subscription | undefined;
  const at = (notification: ParsedMessage['notification']): void => {
    messages.push({ frame: scheduler.now(), notification });
  };
  scheduler.schedule(() => {
    subscription = output$.subscribe({
      next: (value) => at({ kind: 'N', value }),
      error: (error: unknown) => at({ kind: 'E', error }),
      complete: () => at({ kind: 'C' }),
    });
  }, from);
  if (to !== Infinity) scheduler.schedule(() => subscription?.unsubscribe(), to);
  return messages;
}

function makeSource(c: AnyMarbleCase, run: RunHelpers, scheduler: TestScheduler, demand: DemandRequest[]): TestStream {
  const { marbles, values, error } = c.source;
  if (c.source.kind === 'pull') return pullStream(c.source, scheduler, demand);
  return c.source.kind === 'hot' ? run.hot(marbles, values, error) : run.cold(marbles, values, error);
}

function makeInner(c: AnyMarbleCase, run: RunHelpers): Record<string, TestStream> {
  const streams = (c.inner ?? {}) as Record<string, MarbleStream<unknown>>;
  return Object.fromEntries(
    Object.entries(streams).map(([name, s]) => [name, run.cold(s.marbles, s.values, s.error)] as const),
  );
}

function applyStage(
  c: AnyMarbleCase,
  source$: Observable<unknown>,
  helpers: CaseHelpers<unknown, Record<string, unknown>>,
): Observable<unknown> {
  const { id } = c; // kept for the message: the types say the last branch cannot happen
  if (c.pipeline !== undefined) return c.pipeline(source$, helpers);
  if (typeof c.operator === 'function') return source$.pipe(c.operator(helpers));
  throw new Error(`marble case '${id}' has neither 'operator' nor 'pipeline'`);
}

/**
 * A demand-aware source whose values become available at the frames of `stream` (counted from
 * each subscription) and are emitted only against requests, in order. Its terminal waits for the
 * values before it, as the end of a file waits for its last line to be read.
 */
function pullStream(stream: MarbleStream<unknown>, scheduler: SchedulerLike, demand: DemandRequest[]): TestStream {
  const messages = parseRunMarbles(stream.marbles, stream.values, stream.error);
  const subscriptions: SubscriptionRecord[] = [];
  const source$ = demandSource<unknown>('pull source', (sink) => {
    const log = { subscribedFrame: scheduler.now(), unsubscribedFrame: Infinity };
    subscriptions.push(log);
    return pullProducer(messages, sink, scheduler, log);
  });
  return Object.assign(recordDemand(source$, scheduler, demand), { subscriptions });
}

function pullProducer(
  messages: readonly ParsedMessage[],
  sink: ProducerSink<unknown>,
  scheduler: SchedulerLike,
  log: SubscriptionRecord,
): Producer {
  const available: ParsedMessage['notification'][] = [];
  const timers = new Subscription();
  const arrive = (notification: ParsedMessage['notification']): void => {
    available.push(notification);
    sink.schedulePump();
  };
  return {
    connect() {
      for (const m of messages) timers.add(scheduler.schedule(() => arrive(m.notification), m.frame));
    },
    pump() {
      for (let head = available[0]; head !== undefined; head = available[0]) {
        if (head.kind === 'N' && sink.demand <= 0) return;
        available.shift();
        if (head.kind === 'N') sink.next(head.value);
        else if (head.kind === 'E') sink.error(head.error);
        else sink.complete();
      }
    },
    teardown() {
      timers.unsubscribe();
      available.length = 0;
      log.unsubscribedFrame = scheduler.now();
    },
  };
}

/** The same demand-aware stream, with every `request(n)` made of it appended to `log`. */
function recordDemand<T>(source$: Observable<T>, scheduler: SchedulerLike, log: DemandRequest[]): Observable<T> {
  const protocol = demandProtocolOf(source$);
  if (protocol === undefined) {
    throw new TypeError('observeDemand: the stream is not demand-aware, so nobody can request from it');
  }
  const recorded: DemandProtocol<T> = {
    version: protocol.version,
    subscribe(observer: DemandObserver<T>): DemandHandle {
      let wrapped: DemandHandle | undefined;
      // The same wrapper whether the consumer gets the handle in start() or as the return value.
      const wrap = (handle: DemandHandle): DemandHandle =>
        (wrapped ??= {
          request(n) {
            log.push({ frame: scheduler.now(), n });
            handle.request(n);
          },
          cancel: (cancellation) => handle.cancel(cancellation),
        });
      const handle = protocol.subscribe({
        start: (h) => observer.start?.(wrap(h)),
        next: (value) => observer.next(value),
        error: (err) => observer.error(err),
        complete: () => observer.complete(),
      });
      return wrap(handle);
    },
  };
  return toDemandObservable(recorded);
}

/** The recorded requests as parsed marbles, for comparison with a case's `demand`. */
export function demandMessages(demand: readonly DemandRequest[]): ParsedMessage[] {
  return demand.map((r) => ({ frame: r.frame, notification: { kind: 'N', value: r.n } }));
}
