import type { Observable } from 'rxjs';
import { TestScheduler, type RunHelpers } from 'rxjs/testing';
import { expect, it } from 'vitest';
import type { AnyMarbleCase, CaseHelpers, MarbleStream, SubscriptionMarbles } from './case.js';

type SubscriptionLogs = Parameters<RunHelpers['expectSubscriptions']>[0];

/** A cold or hot observable made inside a run: it records its subscriptions. */
type TestStream = Observable<unknown> & { readonly subscriptions: SubscriptionLogs };

/**
 * Runs one case on a fresh TestScheduler whose assertions are vitest's `toEqual`: the output
 * must match `expected`, the source and inner subscriptions must match `subscriptions`, then
 * `verify` runs. Throws (fails the test) on the first mismatch.
 */
export function runMarbleCase(c: AnyMarbleCase): void {
  const scheduler = new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });
  let helpers: CaseHelpers<unknown, Record<string, unknown>> | undefined;
  scheduler.run((run) => {
    const source = makeSource(c, run);
    const inner = makeInner(c, run);
    helpers = makeHelpers(c, scheduler, run, inner);
    const output$ = applyStage(c, source, helpers);
    run.expectObservable(output$, c.unsubscribe).toBe(c.expected.marbles, c.expected.values, c.expected.error);
    expectSubscriptions(run, source, c.subscriptions?.source);
    for (const [name, marbles] of Object.entries(c.subscriptions?.inner ?? {})) {
      const stream = inner[name];
      if (stream === undefined)
        throw new Error(`marble case '${c.id}': subscriptions.inner.${name} names no inner stream`);
      expectSubscriptions(run, stream, marbles);
    }
  });
  // The scheduler has flushed: counters now hold their final values.
  if (helpers !== undefined) c.verify?.({ ...helpers, expect });
}

/** Registers one vitest test per case, titled with the case title verbatim. */
export function runMarbleCases(cases: readonly AnyMarbleCase[]): void {
  for (const c of cases) {
    it(c.title, () => {
      runMarbleCase(c);
    });
  }
}

function makeSource(c: AnyMarbleCase, run: RunHelpers): TestStream {
  const { marbles, values, error } = c.source;
  return c.source.kind === 'hot' ? run.hot(marbles, values, error) : run.cold(marbles, values, error);
}

function makeInner(c: AnyMarbleCase, run: RunHelpers): Record<string, TestStream> {
  const streams = (c.inner ?? {}) as Record<string, MarbleStream<unknown>>;
  return Object.fromEntries(
    Object.entries(streams).map(([name, s]) => [name, run.cold(s.marbles, s.values, s.error)] as const),
  );
}

function makeHelpers(
  c: AnyMarbleCase,
  scheduler: TestScheduler,
  run: RunHelpers,
  inner: Record<string, TestStream>,
): CaseHelpers<unknown, Record<string, unknown>> {
  const base = { scheduler, inner, cold: run.cold, hot: run.hot, time: run.time };
  // context() sees the helpers without a context; everything after it sees this run's context.
  const context: unknown = c.context?.({ ...base, context: undefined });
  return { ...base, context };
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

function expectSubscriptions(run: RunHelpers, stream: TestStream, marbles: SubscriptionMarbles | undefined): void {
  if (marbles === undefined) return;
  run.expectSubscriptions(stream.subscriptions).toBe(typeof marbles === 'string' ? marbles : [...marbles]);
}
