/**
 * The demand handshake against the Reactive Streams 1.0 rules it follows (Publisher 1.x,
 * Subscriber 2.x, Subscription 3.x), rule by rule, run against every demand-aware producer in
 * the library. The consumer is hand-driven and misbehaves on purpose: it requests from inside
 * next, requests 0 / -1 / NaN / a string, cancels twice, cancels inside next, and requests
 * Infinity and then more. No timers are involved: asynchronous producers settle on microtasks
 * and `setImmediate` turns, so nothing depends on wall-clock speed.
 */
import { describe, expect, it } from 'vitest';
import { Observable, concat, config, from, of, throwError, type OperatorFunction } from 'rxjs';
import {
  ProtocolError,
  batchFresh,
  boundedBuffer,
  channel,
  drainOnComplete,
  fromPull,
  mergeWorkers,
  orderedMerge,
  toAsyncIterable,
  type DemandHandle,
} from '../../index.js';
import {
  PROTOCOL_VERSION,
  demandProtocolOf,
  toDemandObservable,
  type DemandObserver,
} from '../../lib/core/protocol.js';

// ---- producers under test ----------------------------------------------------------------------

interface Made {
  readonly source: Observable<unknown>;
  /** True once whatever feeds the producer has been released (iterator returned, source finalized). */
  readonly released: () => boolean;
}

interface ProducerCase {
  readonly name: string;
  /** The operator a ProtocolError must name. */
  readonly operator: string;
  /** Exactly n elements (0..n-1, or [0]..[n-1] for batches), then completion. */
  make(n: number): Made;
  /** n elements, then `err`; absent when the producer cannot fail (a channel). */
  failing?(n: number, err: Error): Made;
}

/** A synchronous iterable of 0..n-1 that throws `err` (if given) after them; knows when it was released. */
function counted(n: number, err?: Error): { iterable: Iterable<number>; released: () => boolean } {
  let released = false;
  return {
    iterable: {
      *[Symbol.iterator]() {
        try {
          for (let i = 0; i < n; i++) yield i;
          if (err !== undefined) throw err;
        } finally {
          released = true;
        }
      },
    },
    released: () => released,
  };
}

function countedAsync(n: number, err?: Error): { iterable: AsyncIterable<number>; released: () => boolean } {
  let released = false;
  return {
    iterable: {
      async *[Symbol.asyncIterator]() {
        try {
          for (let i = 0; i < n; i++) {
            await Promise.resolve();
            yield i;
          }
          if (err !== undefined) throw err;
        } finally {
          released = true;
        }
      },
    },
    released: () => released,
  };
}

/** A stage over fromPull of a counted iterable. */
function overPull(stage: () => OperatorFunction<number, unknown>): Pick<ProducerCase, 'make' | 'failing'> {
  return {
    make(n) {
      const c = counted(n);
      return { source: fromPull(c.iterable).pipe(stage()), released: c.released };
    },
    failing(n, err) {
      const c = counted(n, err);
      return { source: fromPull(c.iterable).pipe(stage()), released: c.released };
    },
  };
}

/** A push source (it cannot be paused) that says when it was finalized. */
function pushed(n: number, err?: Error): { source: Observable<number>; released: () => boolean } {
  let released = false;
  const values = from(Array.from({ length: n }, (_, i) => i));
  const body =
    err === undefined
      ? values
      : concat(
          values,
          throwError(() => err),
        );
  const source = new Observable<number>((subscriber) => {
    const subscription = body.subscribe(subscriber);
    return () => {
      released = true;
      subscription.unsubscribe();
    };
  });
  return { source, released: () => released };
}

const PRODUCERS: readonly ProducerCase[] = [
  { name: 'fromPull over a sync iterable', operator: 'fromPull', ...overPull(() => (s) => s) },
  {
    name: 'fromPull over an async iterable',
    operator: 'fromPull',
    make(n) {
      const c = countedAsync(n);
      return { source: fromPull(c.iterable), released: c.released };
    },
    failing(n, err) {
      const c = countedAsync(n, err);
      return { source: fromPull(c.iterable), released: c.released };
    },
  },
  {
    name: 'channel().observable',
    operator: 'channel',
    make(n) {
      const ch = channel<number>({ capacity: Math.max(1, n) });
      for (let i = 0; i < n; i++) ch.trySend(i);
      ch.close();
      return { source: ch.observable, released: () => true };
    },
  },
  {
    name: "boundedBuffer('block') over fromPull",
    operator: 'boundedBuffer',
    ...overPull(() => boundedBuffer<number>({ capacity: 3, overflow: 'block' })),
  },
  {
    name: "boundedBuffer('error') over a push source",
    operator: 'boundedBuffer',
    make(n) {
      const p = pushed(n);
      return {
        source: p.source.pipe(boundedBuffer<number>({ capacity: n + 1, overflow: 'error' })),
        released: p.released,
      };
    },
    failing(n, err) {
      const p = pushed(n, err);
      return {
        source: p.source.pipe(boundedBuffer<number>({ capacity: n + 1, overflow: 'error', delayError: true })),
        released: p.released,
      };
    },
  },
  {
    name: 'mergeWorkers with synchronous workers',
    operator: 'mergeWorkers',
    ...overPull(() => mergeWorkers((v: number) => of(v), { concurrency: 3 })),
  },
  {
    name: 'mergeWorkers with Promise workers',
    operator: 'mergeWorkers',
    ...overPull(() => mergeWorkers(async (v: number) => v, { concurrency: 3 })),
  },
  {
    name: 'orderedMerge with Promise workers',
    operator: 'orderedMerge',
    ...overPull(() => orderedMerge(async (v: number) => v, { concurrency: 3 })),
  },
  {
    name: 'batchFresh({ size: 1 })',
    operator: 'batchFresh',
    ...overPull(() => batchFresh<number>({ size: 1 })),
  },
  {
    name: 'drainOnComplete around mergeWorkers',
    operator: 'drainOnComplete',
    ...overPull(() =>
      drainOnComplete(
        mergeWorkers((v: number) => of(v), { concurrency: 2 }),
        { deadline: Infinity },
      ),
    ),
  },
];

// ---- a hand-driven, misbehaving consumer ------------------------------------------------------

interface Consumer {
  readonly values: number[];
  readonly errors: unknown[];
  completions: number;
  /** Signals after the first terminal one, or after this consumer cancelled. */
  afterEnd: number;
  /** How deeply next was nested at its deepest (1 = never re-entered). */
  maxDepth: number;
  handle: DemandHandle;
  cancelled: boolean;
}

function subscribe(
  source: Observable<unknown>,
  hooks: { start?: (c: Consumer) => void; next?: (value: number, c: Consumer) => void } = {},
): Consumer {
  const protocol = demandProtocolOf(source);
  if (protocol === undefined) throw new Error('not demand-aware');
  let depth = 0;
  const c: Consumer = {
    values: [],
    errors: [],
    completions: 0,
    afterEnd: 0,
    maxDepth: 0,
    handle: undefined as unknown as DemandHandle,
    cancelled: false,
  };
  const ended = (): boolean => c.cancelled || c.errors.length > 0 || c.completions > 0;
  const observer: DemandObserver<unknown> = {
    start(h) {
      c.handle = h;
      hooks.start?.(c);
    },
    next(raw) {
      if (ended()) c.afterEnd++;
      const value = (Array.isArray(raw) ? raw[0] : raw) as number;
      c.values.push(value);
      depth++;
      c.maxDepth = Math.max(c.maxDepth, depth);
      try {
        hooks.next?.(value, c);
      } finally {
        depth--;
      }
    },
    error(err) {
      if (ended()) c.afterEnd++;
      c.errors.push(err);
    },
    complete() {
      if (ended()) c.afterEnd++;
      c.completions++;
    },
  };
  const handle = protocol.subscribe(observer);
  if (c.handle === undefined) c.handle = handle;
  return c;
}

function cancel(c: Consumer): void {
  c.cancelled = true;
  c.handle.cancel();
}

/** Lets promise chains and async iterators run: a few macrotask turns, no timers. */
async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// ---- the rules, for every producer ----------------------------------------------------------------

describe.each(PRODUCERS)('Reactive Streams rules: $name', (producer) => {
  it('1.1: never signals more values than were requested, in total, at any time', async () => {
    const { source } = producer.make(10);
    const c = subscribe(source);
    await settle();
    expect(c.values).toEqual([]);
    let requested = 0;
    for (const n of [1, 2, 2, 1]) {
      c.handle.request(n);
      requested += n;
      await settle();
      expect(c.values).toHaveLength(requested);
    }
    expect(c.completions).toBe(0);
    cancel(c);
  });

  it('1.3: signals are serial: next is never re-entered, even when the consumer requests from inside next', async () => {
    const { source } = producer.make(50);
    const c = subscribe(source, {
      start: (self) => self.handle.request(1),
      next: (_v, self) => self.handle.request(1),
    });
    await settle();
    expect(c.maxDepth).toBe(1);
    expect(c.values).toEqual(range(50));
    expect(c.completions).toBe(1);
  });

  it('1.7: after complete or error nothing more is signalled, however much the consumer asks', async () => {
    const done = subscribe(producer.make(3).source);
    done.handle.request(5);
    await settle();
    done.handle.request(5);
    done.handle.request(Infinity);
    await settle();
    expect(done.values).toEqual([0, 1, 2]);
    expect(done.completions).toBe(1);
    expect(done.errors).toEqual([]);
    expect(done.afterEnd).toBe(0);
    if (producer.failing !== undefined) {
      const boom = new Error('boom');
      const failed = subscribe(producer.failing(3, boom).source);
      failed.handle.request(10);
      await settle();
      failed.handle.request(10);
      await settle();
      // A fail-fast pool delivers a source error at once, discarding results still waiting
      // for demand: what arrives is some of the values, each once, then the error.
      expect(new Set(failed.values).size).toBe(failed.values.length);
      expect(failed.values.every((v) => v >= 0 && v < 3)).toBe(true);
      expect(failed.errors).toEqual([boom]);
      expect(failed.completions).toBe(0);
      expect(failed.afterEnd).toBe(0);
    }
  });

  it('3.2: request may be called synchronously from start (onSubscribe) and from inside next', async () => {
    const { source } = producer.make(5);
    const c = subscribe(source, {
      start: (self) => self.handle.request(1),
      next: (_v, self) => self.handle.request(1),
    });
    await settle();
    expect(c.values).toEqual(range(5));
    expect(c.completions).toBe(1);
  });

  it('3.3: request from inside next does not recurse: 10,000 values, one next on the stack at a time', async () => {
    const { source } = producer.make(10_000);
    const c = subscribe(source, {
      start: (self) => self.handle.request(1),
      next: (_v, self) => self.handle.request(1),
    });
    await settle();
    expect(c.maxDepth).toBe(1);
    expect(c.values).toHaveLength(10_000);
    expect(c.completions).toBe(1);
  });

  it('3.6: after cancel (twice, or from inside next), request is a no-op and nothing more is signalled', async () => {
    const made = producer.make(10);
    const twice = subscribe(made.source);
    twice.handle.request(2);
    await settle();
    cancel(twice);
    twice.handle.cancel();
    twice.handle.request(5);
    await settle();
    expect(twice.values).toEqual([0, 1]);
    expect(twice.errors).toEqual([]);
    expect(twice.completions).toBe(0);
    expect(twice.afterEnd).toBe(0);
    expect(made.released()).toBe(true);

    const inside = producer.make(10);
    const c = subscribe(inside.source, {
      next: (v, self) => {
        if (v === 2) {
          cancel(self);
          self.handle.cancel();
          self.handle.request(3);
        }
      },
    });
    c.handle.request(8);
    await settle();
    expect(c.values).toEqual([0, 1, 2]);
    expect(c.afterEnd).toBe(0);
    expect(inside.released()).toBe(true);
  });

  it('3.8: request(n) is additive: 1 + 2 (asked back to back) + 1 gives four values', async () => {
    const { source } = producer.make(10);
    const c = subscribe(source);
    c.handle.request(1);
    c.handle.request(2);
    await settle();
    expect(c.values).toEqual([0, 1, 2]);
    c.handle.request(1);
    await settle();
    expect(c.values).toEqual([0, 1, 2, 3]);
    cancel(c);
  });

  it('3.9: request(0), request(-1), request(NaN) and a non-number signal a ProtocolError citing rule 3.9, and release upstream', async () => {
    for (const bad of [0, -1, NaN, '1' as unknown as number]) {
      const made = producer.make(10);
      const c = subscribe(made.source);
      c.handle.request(1);
      await settle();
      c.handle.request(bad);
      await settle();
      expect(c.values).toEqual([0]);
      expect(c.errors).toHaveLength(1);
      const err = c.errors[0];
      expect(err).toBeInstanceOf(ProtocolError);
      expect(String(err)).toContain(
        `${producer.operator}: request(n) needs a whole n > 0 or Infinity (Reactive Streams rule 3.9), got ${String(bad)}`,
      );
      c.handle.request(5);
      await settle();
      expect(c.values).toEqual([0]);
      expect(c.afterEnd).toBe(0);
      expect(made.released()).toBe(true);
    }
  });

  it('3.17: demand up to Infinity: Infinity then more stays unbounded, and huge finite requests add up', async () => {
    const unbounded = subscribe(producer.make(20).source);
    unbounded.handle.request(Infinity);
    unbounded.handle.request(5);
    unbounded.handle.request(Number.MAX_SAFE_INTEGER);
    await settle();
    expect(unbounded.values).toEqual(range(20));
    expect(unbounded.completions).toBe(1);
    expect(unbounded.errors).toEqual([]);

    const huge = subscribe(producer.make(20).source);
    huge.handle.request(Number.MAX_SAFE_INTEGER);
    huge.handle.request(Number.MAX_SAFE_INTEGER);
    await settle();
    expect(huge.values).toEqual(range(20));
    expect(huge.completions).toBe(1);
    expect(huge.errors).toEqual([]);
  });
});

// ---- rule 2.8: library stages as subscribers --------------------------------------------------------

/** A hand-written demand-aware publisher that keeps signalling after it was cancelled. */
function rogue(): {
  source: Observable<number>;
  emit: (value: number) => void;
  complete: () => void;
  error: (err: unknown) => void;
  requested: () => number;
  cancels: () => number;
} {
  let observer: DemandObserver<number> | undefined;
  let requested = 0;
  let cancels = 0;
  const source = toDemandObservable<number>({
    version: PROTOCOL_VERSION,
    subscribe(o) {
      observer = o;
      const handle: DemandHandle = {
        request: (n) => void (requested += n),
        cancel: () => void cancels++,
      };
      o.start?.(handle);
      return handle;
    },
  });
  return {
    source,
    emit: (value) => observer?.next(value),
    complete: () => observer?.complete(),
    error: (err) => observer?.error(err),
    requested: () => requested,
    cancels: () => cancels,
  };
}

const STAGES: readonly { name: string; op: () => OperatorFunction<number, unknown> }[] = [
  { name: "boundedBuffer('block')", op: () => boundedBuffer<number>({ capacity: 4, overflow: 'block' }) },
  { name: "boundedBuffer('drop-newest')", op: () => boundedBuffer<number>({ capacity: 4, overflow: 'drop-newest' }) },
  { name: 'mergeWorkers', op: () => mergeWorkers((v: number) => of(v), { concurrency: 2 }) },
  { name: 'orderedMerge', op: () => orderedMerge((v: number) => of(v), { concurrency: 2 }) },
  { name: 'batchFresh', op: () => batchFresh<number>({ size: 1 }) },
  {
    name: 'drainOnComplete',
    op: () =>
      drainOnComplete(
        mergeWorkers((v: number) => of(v), { concurrency: 2 }),
        { deadline: Infinity },
      ),
  },
];

describe('Reactive Streams rule 2.8: library stages as subscribers', () => {
  it.each(STAGES)(
    '2.8: $name cancelled upstream takes late next, complete and error without a crash or a signal downstream',
    async ({ op }) => {
      const unhandled: unknown[] = [];
      const previous = config.onUnhandledError;
      config.onUnhandledError = (err) => unhandled.push(err);
      try {
        const up = rogue();
        const c = subscribe(up.source.pipe(op()));
        c.handle.request(2);
        expect(up.requested()).toBeGreaterThanOrEqual(1);
        up.emit(0);
        await settle();
        expect(c.values).toEqual([0]);
        cancel(c);
        expect(up.cancels()).toBe(1);
        // Values still "requested" arrive after the cancel (rule 2.8), then terminal signals.
        expect(() => {
          up.emit(1);
          up.emit(2);
          up.complete();
          up.error(new Error('late'));
        }).not.toThrow();
        await settle();
        expect(c.values).toEqual([0]);
        expect(c.afterEnd).toBe(0);
        expect(unhandled).toEqual([]);
      } finally {
        config.onUnhandledError = previous;
      }
    },
  );

  it('2.8: toAsyncIterable, after the loop breaks, takes late signals from its source without a crash', async () => {
    const up = rogue();
    const iterator = toAsyncIterable(up.source);
    const first = iterator.next();
    up.emit(0);
    await expect(first).resolves.toEqual({ value: 0, done: false });
    await iterator.return!();
    expect(up.cancels()).toBe(1);
    expect(() => {
      up.emit(1);
      up.complete();
    }).not.toThrow();
    await expect(iterator.next()).resolves.toEqual({ value: undefined, done: true });
  });
});
