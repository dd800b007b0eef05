import { TestScheduler, type RunHelpers } from 'rxjs/testing';
import { expect, it } from 'vitest';
import type { AnyMarbleCase, CaseHelpers, SubscriptionMarbles } from './case.js';
import { demandMessages, setUpCase, type TestStream } from './execute.js';
import { demandValues, parseRunMarbles } from './timeline.js';

type SubscriptionLogs = Parameters<RunHelpers['expectSubscriptions']>[0];

/**
 * Runs one case on a fresh TestScheduler whose assertions are vitest's `toEqual`: the output
 * must match `expected`, the source and inner subscriptions must match `subscriptions`, the
 * requests made of a pull source must match `demand`, then `verify` runs. Throws (fails the
 * test) on the first mismatch.
 */
export function runMarbleCase(c: AnyMarbleCase): void {
  const scheduler = new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });
  let helpers: CaseHelpers<unknown, Record<string, unknown>> | undefined;
  let demand: Parameters<typeof demandMessages>[0] = [];
  scheduler.run((run) => {
    const setup = setUpCase(c, scheduler, run);
    helpers = setup.helpers;
    demand = setup.demand;
    run.expectObservable(setup.output$, c.unsubscribe).toBe(c.expected.marbles, c.expected.values, c.expected.error);
    expectSubscriptions(run, setup.source, c.subscriptions?.source);
    for (const [name, marbles] of Object.entries(c.subscriptions?.inner ?? {})) {
      const stream = setup.inner[name];
      if (stream === undefined)
        throw new Error(`marble case '${c.id}': subscriptions.inner.${name} names no inner stream`);
      expectSubscriptions(run, stream, marbles);
    }
  });
  if (c.demand !== undefined) {
    expect(demandMessages(demand), `marble case '${c.id}': the requests made of the source`).toEqual(
      parseRunMarbles(c.demand, demandValues(c.demand)),
    );
  }
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

function expectSubscriptions(run: RunHelpers, stream: TestStream, marbles: SubscriptionMarbles | undefined): void {
  if (marbles === undefined) return;
  run
    .expectSubscriptions(stream.subscriptions as SubscriptionLogs)
    .toBe(typeof marbles === 'string' ? marbles : [...marbles]);
}
