import type { Observable } from 'rxjs';
import { TestScheduler, type RunHelpers } from 'rxjs/testing';
import { expect } from 'vitest';
import { demandProtocolOf, type DemandHandle } from '../lib/core/protocol.js';

/** A hand-driven demand-aware consumer: the test decides when and how much to request. */
export interface Probe<T> {
  readonly values: T[];
  readonly errors: unknown[];
  readonly completions: number;
  /** Signals seen after the first terminal one (must stay 0). */
  readonly afterTerminal: number;
  request(n: number): void;
  cancel(): void;
}

export function probe<T>(
  source: Observable<T>,
  onNext?: (value: T, p: Probe<T>) => void,
  initialDemand?: number,
): Probe<T> {
  const protocol = demandProtocolOf(source);
  if (protocol === undefined) throw new Error('probe: source is not demand-aware');
  const values: T[] = [];
  const errors: unknown[] = [];
  let completions = 0;
  let afterTerminal = 0;
  let terminated = false;
  let handle: DemandHandle | undefined;
  const p: Probe<T> = {
    values,
    errors,
    get completions() {
      return completions;
    },
    get afterTerminal() {
      return afterTerminal;
    },
    request: (n) => handle?.request(n),
    cancel: () => handle?.cancel(),
  };
  protocol.subscribe({
    start(h) {
      handle = h;
      if (initialDemand !== undefined) h.request(initialDemand);
    },
    next(value) {
      if (terminated) afterTerminal++;
      values.push(value);
      onNext?.(value, p);
    },
    error(err) {
      if (terminated) afterTerminal++;
      terminated = true;
      errors.push(err);
    },
    complete() {
      if (terminated) afterTerminal++;
      terminated = true;
      completions++;
    },
  });
  return p;
}

/** A generator that records how many values were pulled from it and whether it was closed. */
export function countingIterable(limit = Infinity): {
  iterable: Iterable<number>;
  pulled: () => number;
  returned: () => boolean;
} {
  let pulled = 0;
  let returned = false;
  const iterable: Iterable<number> = {
    *[Symbol.iterator]() {
      try {
        for (let i = 0; i < limit; i++) {
          pulled++;
          yield i;
        }
      } finally {
        returned = true;
      }
    },
  };
  return { iterable, pulled: () => pulled, returned: () => returned };
}

/** Runs `run` in a TestScheduler's virtual time, asserting with vitest's deep equality. */
export function marbles(run: (helpers: RunHelpers, scheduler: TestScheduler) => void): void {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  scheduler.run((helpers) => run(helpers, scheduler));
}
