/**
 * Every public function with every invalid input we could think of, as a table. Each row either
 * expects a clear error that names the operator and the parameter (the message is asserted), or
 * handling as documented (asserted). Rows with `bug` describe what the library should do and does
 * not yet: bad-input.test.ts runs them as `it.fails`.
 *
 * A `bug` row's `run` is the minimal repro of that bug: run it as a plain `it` to see the failure.
 * No vitest here (node:assert only), so that the docs can import the table and count it.
 */
import assert from 'node:assert/strict';
import { EMPTY, Observable, Subject, config, from, of, queueScheduler, throwError, type OperatorFunction } from 'rxjs';
import {
  ClosedError,
  OverflowError,
  ProtocolError,
  batchFresh,
  batchMonitor,
  boundedBuffer,
  bufferMonitor,
  channel,
  drainOnComplete,
  fromPull,
  isDemandAware,
  mergeWorkers,
  orderedMerge,
  toAsyncIterable,
  workerMonitor,
  type DemandHandle,
  type DemandObserver,
  type PullInput,
  rateLimit,
  rateMonitor,
  broadcast,
  LagError,
} from '../../index.js';
import { PROTOCOL_VERSION, demandProtocolOf, toDemandObservable } from '../../lib/core/protocol.js';

export interface BadInput {
  /** The public function tried. */
  readonly fn: string;
  /** What is wrong with the input. */
  readonly input: string;
  /** Set when the library does not do this yet: the bug, in one line (the row runs as it.fails). */
  readonly bug?: string;
  /** Throws (or rejects) when the library does not handle the input as it should. */
  readonly run: () => void | Promise<void>;
}

// ---- assertions ----------------------------------------------------------------------------------

type ErrorClass = new (...args: never[]) => Error;

function throwsNamed(call: () => unknown, type: ErrorClass, message: RegExp): void {
  assert.throws(call, (err: unknown) => {
    assert.ok(err instanceof type, `expected a ${type.name}, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

/** Lets promise chains run: a few macrotask turns, no timers. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A source that records whether its subscription was released. */
function tracked<T>(source: Observable<T>): { source: Observable<T>; open: () => number } {
  let open = 0;
  return {
    source: new Observable<T>((subscriber) => {
      open++;
      const subscription = source.subscribe(subscriber);
      return () => {
        open--;
        subscription.unsubscribe();
      };
    }),
    open: () => open,
  };
}

/** Subscribes, lets it run, and checks it errored with a matching error and released its source. */
async function streamFails(
  make: (source: Observable<number>) => Observable<unknown>,
  type: ErrorClass | undefined,
  message: RegExp | Error,
  input: Observable<number> = of(1, 2, 3),
): Promise<void> {
  const src = tracked(input);
  let error: unknown;
  let completed = false;
  const subscription = make(src.source).subscribe({
    error: (err: unknown) => (error = err),
    complete: () => (completed = true),
  });
  await settle();
  assert.equal(completed, false, 'the stream completed instead of failing');
  if (message instanceof Error) assert.equal(error, message);
  else {
    assert.ok(type !== undefined && error instanceof type, `expected a ${type?.name}, got ${String(error)}`);
    assert.match(error.message, message);
  }
  assert.equal(subscription.closed, true, 'the subscription is still open');
  assert.equal(src.open(), 0, 'the source is still subscribed');
}

/** Asserts that `make(v)` throws a TypeError/RangeError for each value, naming operator and parameter. */
function optionRows(
  fn: string,
  parameter: string,
  make: (value: unknown) => unknown,
  rows: readonly [value: unknown, type: ErrorClass, label?: string][],
  message?: RegExp,
): BadInput[] {
  return rows.map(([value, type, label]) => ({
    fn,
    input: `${parameter}: ${label ?? describe(value)}`,
    run: () => throwsNamed(() => make(value), type, message ?? new RegExp(`${fn}: '${escape(parameter)}' must be`)),
  }));
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The common bad values of a positive-integer option (missing when required). */
function positiveIntegerRows(required: boolean): [unknown, ErrorClass, string?][] {
  return [
    ...(required ? [[undefined, TypeError, 'missing'] as [unknown, ErrorClass, string]] : []),
    [0, RangeError],
    [-1, RangeError],
    [1.5, RangeError],
    [NaN, RangeError],
    [Infinity, RangeError],
    [2 ** 32, RangeError, '2^32 (longer than any array)'],
    ['4', TypeError],
    [null, TypeError],
  ];
}

/** A scheduler-shaped object without `now`: timers need both. */
const NO_NOW = { schedule: () => undefined };
/** Longer than any timer can wait (2^31 - 1 ms); Node would fire it after 1 ms. */
const TOO_LONG = 3e9;

const OPTIONS_OBJECT: [unknown, ErrorClass, string?][] = [
  [undefined, TypeError, 'missing'],
  [null, TypeError],
  [42, TypeError],
  ['fast', TypeError],
  [[], TypeError],
];

/** A hand-written demand-aware publisher that does what it is told, rule-abiding or not. */
function rogue(): {
  source: Observable<number>;
  observer: () => DemandObserver<number>;
  requested: () => number;
} {
  let observer: DemandObserver<number> | undefined;
  let requested = 0;
  return {
    source: toDemandObservable<number>({
      version: PROTOCOL_VERSION,
      subscribe(o) {
        observer = o;
        const handle: DemandHandle = { request: (n) => void (requested += n), cancel: () => undefined };
        o.start?.(handle);
        return handle;
      },
    }),
    observer: () => observer!,
    requested: () => requested,
  };
}

/** Subscribes through the handshake with a fixed demand; collects what arrives. */
function pull(
  source: Observable<unknown>,
  demand: number,
): { values: unknown[]; errors: unknown[]; completions: () => number } {
  const values: unknown[] = [];
  const errors: unknown[] = [];
  let completions = 0;
  demandProtocolOf(source)!.subscribe({
    start: (h) => {
      if (demand > 0) h.request(demand);
    },
    next: (v) => values.push(v),
    error: (e) => errors.push(e),
    complete: () => completions++,
  });
  return { values, errors, completions: () => completions };
}

const work = (v: number) => of(v);

// ---- the table -------------------------------------------------------------------------------------

const poolRows = (fn: 'mergeWorkers' | 'orderedMerge'): BadInput[] => {
  const op = fn === 'mergeWorkers' ? mergeWorkers : orderedMerge;
  const withOption = (name: string) => (value: unknown) => op(work, { concurrency: 2, [name]: value });
  const withRetry = (name: string) => (value: unknown) =>
    op(work, { concurrency: 2, retry: { count: 1, [name]: value } });
  return [
    ...optionRows(fn, 'work', (value) => op(value as never, { concurrency: 1 }), [
      [undefined, TypeError, 'missing'],
      [42, TypeError],
      ['run', TypeError],
    ]),
    ...optionRows(fn, 'options', (value) => op(work, value as never), OPTIONS_OBJECT),
    ...optionRows(fn, 'concurrency', (value) => op(work, { concurrency: value as never }), positiveIntegerRows(true)),
    ...optionRows(fn, 'errors', withOption('errors'), [
      ['ignore', TypeError],
      [42, TypeError],
      [null, TypeError],
    ]),
    ...optionRows(fn, 'overflow', withOption('overflow'), [
      ['block', TypeError],
      ['drop', TypeError],
      [42, TypeError],
    ]),
    ...optionRows(
      fn,
      'capacity',
      withOption('capacity'),
      positiveIntegerRows(false).filter(([v]) => v !== null),
    ),
    ...optionRows(
      fn,
      'resultCapacity',
      withOption('resultCapacity'),
      positiveIntegerRows(false).filter(([v]) => v !== null),
    ),
    ...optionRows(fn, 'retry', withOption('retry'), [
      [42, TypeError],
      ['twice', TypeError],
      [null, TypeError],
      [[], TypeError],
    ]),
    ...optionRows(fn, 'retry.count', (value) => op(work, { concurrency: 1, retry: { count: value as never } }), [
      [undefined, TypeError, 'missing'],
      [0, RangeError],
      [1.5, RangeError],
      [Infinity, RangeError],
      ['1', TypeError],
    ]),
    ...optionRows(fn, 'retry.delay', withRetry('delay'), [
      [-1, RangeError],
      [NaN, RangeError],
      [Infinity, RangeError],
      [TOO_LONG, RangeError],
      ['10', TypeError],
    ]),
    ...optionRows(fn, 'retry.maxDelay', withRetry('maxDelay'), [
      [-1, RangeError],
      [Infinity, RangeError],
      [TOO_LONG, RangeError],
    ]),
    ...optionRows(fn, 'retry.jitter', withRetry('jitter'), [
      [2, RangeError],
      [-0.5, RangeError],
      [NaN, RangeError],
    ]),
    ...optionRows(fn, 'retry.random', withRetry('random'), [[0.5, TypeError]]),
    ...optionRows(fn, 'retry.shouldRetry', withRetry('shouldRetry'), [[true, TypeError]]),
    ...optionRows(fn, 'onError', withOption('onError'), [['log', TypeError]]),
    ...optionRows(fn, 'onDrop', withOption('onDrop'), [[42, TypeError]]),
    ...optionRows(fn, 'scheduler', withOption('scheduler'), [
      [{}, TypeError],
      [42, TypeError],
      [null, TypeError],
      [NO_NOW, TypeError, 'an object with schedule but no now'],
    ]),
    ...optionRows(fn, 'monitor', withOption('monitor'), [
      [{}, TypeError],
      [{ snapshot: () => ({}) }, TypeError, 'a look-alike object'],
      [bufferMonitor(), TypeError, "bufferMonitor() (another operator's kind)"],
    ]),
    {
      fn,
      input: 'concurrency: an Observable that emits NaN',
      run: () =>
        streamFails(
          (s) => s.pipe(op(work, { concurrency: of(NaN) })),
          RangeError,
          new RegExp(`${fn}: 'concurrency' must be an Observable of finite numbers, got NaN`),
        ),
    },
    {
      fn,
      input: 'concurrency: an Observable that emits a string',
      run: () =>
        streamFails(
          (s) => s.pipe(op(work, { concurrency: of('4') as unknown as Observable<number> })),
          RangeError,
          new RegExp(`${fn}: 'concurrency' must be an Observable of finite numbers, got "4"`),
        ),
    },
    {
      fn,
      input: 'concurrency: an Observable that completes without a value',
      run: () =>
        streamFails(
          (s) => s.pipe(op(work, { concurrency: EMPTY })),
          RangeError,
          new RegExp(`${fn}: 'concurrency' must be an Observable that emits a number`),
        ),
    },
    {
      fn,
      input: 'concurrency: an Observable that emits 0 and -3 (documented: floored at 1)',
      run: async () => {
        let active = 0;
        let max = 0;
        const got: number[] = [];
        from([1, 2, 3])
          .pipe(
            op(
              async (v: number) => {
                max = Math.max(max, ++active);
                await Promise.resolve();
                active--;
                return v;
              },
              { concurrency: of(0, -3) },
            ),
          )
          .subscribe((v) => got.push(v));
        await settle();
        assert.deepEqual([...got].sort(), [1, 2, 3]);
        assert.equal(max, 1);
      },
    },
    {
      fn,
      input: 'concurrency: an Observable that emits Infinity',
      run: () =>
        streamFails(
          (s) => s.pipe(op(work, { concurrency: of(Infinity) })),
          RangeError,
          new RegExp(`${fn}: 'concurrency'`),
        ),
    },
    ...[42, undefined, null, { then: 1 }].map((returned): BadInput => ({
      fn,
      input: `a worker that returns ${describe(returned)} (not an ObservableInput)`,
      run: () =>
        streamFails(
          (s) => s.pipe(op(() => returned as never, { concurrency: 1 })),
          TypeError,
          new RegExp(`${fn}: 'work' must return an ObservableInput.*value #0, but it returned`),
        ),
    })),
    {
      fn,
      input: 'a worker that throws synchronously (fail-fast: the stream fails with it)',
      run: () => {
        const boom = new Error('sync throw');
        return streamFails(
          (s) =>
            s.pipe(
              op(
                () => {
                  throw boom;
                },
                { concurrency: 1 },
              ),
            ),
          undefined,
          boom,
        );
      },
    },
    {
      fn,
      input: "a worker that throws synchronously (errors: 'continue': reported to onError, the pool goes on)",
      run: async () => {
        const reported: unknown[] = [];
        const got: number[] = [];
        let completed = false;
        from([1, 2, 3])
          .pipe(
            op(
              (v: number) => {
                if (v === 2) throw new Error('two');
                return of(v);
              },
              { concurrency: 1, errors: 'continue', onError: (_e, v) => reported.push(v) },
            ),
          )
          .subscribe({ next: (v) => got.push(v), complete: () => (completed = true) });
        await settle();
        assert.deepEqual(got, [1, 3]);
        assert.deepEqual(reported, [2]);
        assert.equal(completed, true);
      },
    },
    {
      fn,
      input: 'an onError callback that throws (the stream fails with what it threw)',
      run: () => {
        const thrown = new Error('onError threw');
        return streamFails(
          (s) =>
            s.pipe(
              op(() => throwError(() => new Error('work failed')), {
                concurrency: 1,
                errors: 'continue',
                onError: () => {
                  throw thrown;
                },
              }),
            ),
          undefined,
          thrown,
        );
      },
    },
    {
      fn,
      input: 'a retry.shouldRetry callback that throws',
      run: () => {
        const thrown = new Error('shouldRetry threw');
        return streamFails(
          (s) =>
            s.pipe(
              op(() => throwError(() => new Error('work failed')), {
                concurrency: 1,
                retry: {
                  count: 2,
                  delay: 0,
                  shouldRetry: () => {
                    throw thrown;
                  },
                },
              }),
            ),
          undefined,
          thrown,
        );
      },
    },
    {
      fn,
      input: 'a demand-aware source that sends values nobody requested',
      run: () => {
        const up = rogue();
        const monitor = workerMonitor();
        const p = pull(up.source.pipe(op(work, { concurrency: 2, monitor })), 1);
        for (let i = 0; i < 100; i++) up.observer().next(i);
        assert.ok(monitor.snapshot().queued <= 2, `queued ${monitor.snapshot().queued} unrequested values`);
        assert.equal(p.errors.length + p.values.length > 0, true);
      },
    },
  ];
};

export const BAD_INPUTS: readonly BadInput[] = [
  // ---- boundedBuffer ----
  ...optionRows('boundedBuffer', 'options', (value) => boundedBuffer(value as never), OPTIONS_OBJECT),
  ...optionRows(
    'boundedBuffer',
    'capacity',
    (value) => boundedBuffer({ capacity: value as never, overflow: 'error' }),
    positiveIntegerRows(true),
  ),
  ...optionRows('boundedBuffer', 'overflow', (value) => boundedBuffer({ capacity: 1, overflow: value as never }), [
    [undefined, TypeError, 'missing'],
    ['drop', TypeError],
    ['DROP-NEWEST', TypeError],
    [42, TypeError],
    [null, TypeError],
  ]),
  ...optionRows(
    'boundedBuffer',
    'onDrop',
    (value) => boundedBuffer({ capacity: 1, overflow: 'drop-newest', onDrop: value as never }),
    [
      ['log', TypeError],
      [42, TypeError],
    ],
  ),
  ...optionRows(
    'boundedBuffer',
    'monitor',
    (value) => boundedBuffer({ capacity: 1, overflow: 'error', monitor: value as never }),
    [
      [{}, TypeError],
      ['monitor', TypeError],
      [workerMonitor(), TypeError, "workerMonitor() (another operator's kind)"],
    ],
  ),
  {
    fn: 'boundedBuffer',
    input: 'delayError: "yes" (not a boolean)',
    run: () =>
      throwsNamed(
        () => boundedBuffer({ capacity: 1, overflow: 'error', delayError: 'yes' as never }),
        TypeError,
        /boundedBuffer: 'delayError' must be/,
      ),
  },
  {
    fn: 'boundedBuffer',
    input: "overflow 'block' over a plain Observable (documented: TypeError that names the fix)",
    run: () =>
      streamFails(
        (s) => s.pipe(boundedBuffer({ capacity: 2, overflow: 'block' })),
        TypeError,
        /boundedBuffer: overflow 'block' needs a source that can be paused .*choose 'drop-newest', 'drop-oldest' or 'error'/,
      ),
  },
  {
    fn: 'boundedBuffer',
    input: 'an onDrop callback that throws (documented: the stream fails with what it threw)',
    run: async () => {
      const thrown = new Error('onDrop threw');
      const p = pull(
        from([1, 2, 3]).pipe(
          boundedBuffer({
            capacity: 1,
            overflow: 'drop-newest',
            onDrop: () => {
              throw thrown;
            },
          }),
        ),
        0,
      );
      await settle();
      assert.deepEqual(p.errors, [thrown]);
    },
  },
  {
    fn: 'boundedBuffer',
    input: "a demand-aware source that sends more than 'block' asked for (documented: OverflowError)",
    run: () => {
      const up = rogue();
      const p = pull(up.source.pipe(boundedBuffer({ capacity: 2, overflow: 'block' })), 0);
      for (let i = 0; i < 5; i++) up.observer().next(i);
      assert.equal(p.errors.length, 1);
      assert.ok(p.errors[0] instanceof OverflowError);
      assert.match(
        (p.errors[0] as Error).message,
        /boundedBuffer: queue overflow \(capacity 2, overflow policy 'block'\)/,
      );
    },
  },

  // ---- channel ----
  ...optionRows('channel', 'options', (value) => channel(value as never), OPTIONS_OBJECT),
  ...optionRows('channel', 'capacity', (value) => channel({ capacity: value as never }), positiveIntegerRows(true)),
  ...optionRows(
    'channel',
    'maxPendingSends',
    (value) => channel({ capacity: 1, maxPendingSends: value as never }),
    positiveIntegerRows(false).filter(([v]) => v !== null),
  ),
  ...[null, 42, 'fast'].map((options): BadInput => ({
    fn: 'channel.send',
    input: `options: ${describe(options)}`,
    run: async () => {
      const ch = channel<number>({ capacity: 1 });
      await assert.rejects(ch.send(1, options as never), /channel\.send: 'options' must be an options object/);
      assert.equal(ch.trySend(1), true); // the rejected send took no slot
    },
  })),
  {
    fn: 'channel.send',
    input: 'signal: "abort" (not an AbortSignal)',
    run: async () => {
      const ch = channel<number>({ capacity: 1 });
      ch.trySend(0);
      await assert.rejects(ch.send(1, { signal: 'abort' as never }), /channel\.send: 'signal' must be an AbortSignal/);
    },
  },
  {
    fn: 'channel.send',
    input: 'a send after close (documented: rejects with ClosedError)',
    run: async () => {
      const ch = channel<number>({ capacity: 1 });
      ch.close();
      await assert.rejects(
        ch.send(1),
        (err: unknown) => err instanceof ClosedError && /channel: closed/.test(err.message),
      );
    },
  },
  {
    fn: 'channel.send',
    input: 'one send more than maxPendingSends (documented: rejects with OverflowError)',
    run: async () => {
      const ch = channel<number>({ capacity: 1, maxPendingSends: 1 });
      ch.trySend(0);
      const waiting = ch.send(1);
      await assert.rejects(
        ch.send(2),
        (err: unknown) => err instanceof OverflowError && /maxPendingSends 1/.test(err.message),
      );
      ch.close();
      await assert.rejects(waiting, ClosedError);
    },
  },
  {
    fn: 'channel.send',
    input: "an already aborted signal (documented: rejects with the signal's reason)",
    run: async () => {
      const reason = new Error('aborted before sending');
      await assert.rejects(
        channel<number>({ capacity: 1 }).send(1, { signal: AbortSignal.abort(reason) }),
        (err: unknown) => err === reason,
      );
    },
  },
  {
    fn: 'channel.trySend',
    input: 'a trySend after close (documented: false)',
    run: () => {
      const ch = channel<number>({ capacity: 1 });
      ch.close();
      assert.equal(ch.trySend(1), false);
      assert.equal(ch.size, 0);
    },
  },

  // ---- fromPull ----
  ...optionRows('fromPull', 'input', (value) => fromPull(value as never), [
    [undefined, TypeError, 'missing'],
    [null, TypeError],
    [42, TypeError],
    [true, TypeError],
    [{}, TypeError, 'an object that is not iterable'],
  ]),
  {
    fn: 'fromPull',
    input: 'an iterable whose [Symbol.iterator]() throws (documented: the stream fails with it)',
    run: () => {
      const boom = new Error('iterator threw');
      return streamFails(
        () =>
          fromPull({
            [Symbol.iterator]() {
              throw boom;
            },
          }),
        undefined,
        boom,
      );
    },
  },
  {
    fn: 'fromPull',
    input: 'an iterator whose next() returns 42 (not an iterator result)',
    run: () =>
      streamFails(
        () => fromPull({ [Symbol.iterator]: () => ({ next: () => 42 as never }) }),
        TypeError,
        /fromPull: the iterator's next\(\) returned 42, not an iterator result object/,
      ),
  },
  {
    fn: 'fromPull',
    input: 'an async iterator whose next() resolves to null',
    run: () =>
      streamFails(
        () => fromPull({ [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(null as never) }) }),
        TypeError,
        /fromPull: the iterator's next\(\) returned null/,
      ),
  },
  {
    fn: 'fromPull',
    input: 'an async iterator whose next() rejects (documented: the stream fails with it)',
    run: () => {
      const boom = new Error('read failed');
      return streamFails(
        () => fromPull({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(boom) }) }),
        undefined,
        boom,
      );
    },
  },

  // ---- toAsyncIterable ----
  {
    fn: 'toAsyncIterable',
    input: 'source: missing',
    run: () => throwsNamed(() => toAsyncIterable(undefined as never), TypeError, /toAsyncIterable: 'source' must be/),
  },
  {
    fn: 'toAsyncIterable',
    input: 'source: 42',
    run: () => throwsNamed(() => toAsyncIterable(42 as never), TypeError, /toAsyncIterable: 'source' must be/),
  },
  ...optionRows(
    'toAsyncIterable',
    'options',
    (value) => toAsyncIterable(of(1), value as never),
    OPTIONS_OBJECT.filter(([v]) => v !== undefined),
  ),
  ...optionRows(
    'toAsyncIterable',
    'capacity',
    (value) => toAsyncIterable(of(1), { capacity: value as never }),
    positiveIntegerRows(false).filter(([v]) => v !== null),
  ),
  ...optionRows('toAsyncIterable', 'overflow', (value) => toAsyncIterable(of(1), { overflow: value as never }), [
    ['block', TypeError],
    ['drop', TypeError],
    [42, TypeError],
    [null, TypeError],
  ]),
  ...optionRows('toAsyncIterable', 'onDrop', (value) => toAsyncIterable(of(1), { onDrop: value as never }), [
    ['log', TypeError],
  ]),
  ...optionRows('toAsyncIterable', 'monitor', (value) => toAsyncIterable(of(1), { monitor: value as never }), [
    [{}, TypeError],
    [batchMonitor(), TypeError, "batchMonitor() (another operator's kind)"],
  ]),

  // ---- mergeWorkers, orderedMerge ----
  ...poolRows('mergeWorkers'),
  ...poolRows('orderedMerge'),
  ...optionRows('orderedMerge', 'window', (value) => orderedMerge(work, { concurrency: 2, window: value as never }), [
    ...positiveIntegerRows(false).filter(([v]) => v !== null),
    [1, RangeError, '1 (less than concurrency 2)'],
  ]),

  // ---- batchFresh ----
  ...optionRows('batchFresh', 'options', (value) => batchFresh(value as never), OPTIONS_OBJECT),
  {
    fn: 'batchFresh',
    input: 'neither size, maxWait nor maxWeight',
    run: () =>
      throwsNamed(
        () => batchFresh({}),
        TypeError,
        /batchFresh: 'size', 'maxWait' or 'maxWeight' is required .*got none/,
      ),
  },
  ...optionRows(
    'batchFresh',
    'size',
    (value) => batchFresh({ size: value as never }),
    positiveIntegerRows(false).filter(([v]) => v !== null),
  ),
  ...optionRows('batchFresh', 'maxWait', (value) => batchFresh({ maxWait: value as never }), [
    [0, RangeError],
    [-1, RangeError],
    [NaN, RangeError],
    [Infinity, RangeError],
    [TOO_LONG, RangeError],
    ['5', TypeError],
  ]),
  ...optionRows('batchFresh', 'scheduler', (value) => batchFresh({ size: 1, scheduler: value as never }), [
    [{}, TypeError],
    [42, TypeError],
    [null, TypeError],
    [NO_NOW, TypeError, 'an object with schedule but no now'],
  ]),
  ...optionRows('batchFresh', 'onError', (value) => batchFresh({ size: 1, onError: value as never }), [
    ['retry', TypeError],
  ]),
  ...optionRows('batchFresh', 'freeze', (value) => batchFresh({ size: 1, freeze: value as never }), [
    ['yes', TypeError],
    [1, TypeError],
  ]),
  ...optionRows(
    'batchFresh',
    'maxPending',
    (value) => batchFresh({ size: 1, maxPending: value as never }),
    positiveIntegerRows(false).filter(([v]) => v !== null),
  ),
  ...optionRows('batchFresh', 'overflow', (value) => batchFresh({ size: 1, overflow: value as never }), [
    ['block', TypeError],
    ['drop', TypeError],
  ]),
  ...optionRows('batchFresh', 'monitor', (value) => batchFresh({ size: 1, monitor: value as never }), [
    [{}, TypeError],
    [{ snapshot: () => ({}), changes: bufferMonitor().changes }, TypeError, 'a look-alike object'],
    [bufferMonitor(), TypeError, "bufferMonitor() (another operator's kind)"],
  ]),
  {
    fn: 'batchFresh',
    input: 'a consumer that mutates a frozen batch (documented: TypeError in strict code)',
    run: () => {
      let caught: unknown;
      of(1, 2)
        .pipe(batchFresh<number>({ size: 2, freeze: true }))
        .subscribe((batch) => {
          try {
            batch.push(3);
          } catch (err) {
            caught = err;
          }
        });
      assert.ok(caught instanceof TypeError);
    },
  },
  {
    fn: 'batchFresh',
    input: 'a demand-aware source that sends values nobody requested (an OverflowError, not a silent drop)',
    run: () => {
      const up = rogue();
      const p = pull(up.source.pipe(batchFresh<number>({ size: 1 })), 0);
      for (let i = 0; i < 5; i++) up.observer().next(i);
      assert.equal(p.errors.length, 1);
      assert.ok(p.errors[0] instanceof OverflowError);
      assert.match((p.errors[0] as Error).message, /^batchFresh: /);
    },
  },

  // ---- drainOnComplete ----
  ...optionRows('drainOnComplete', 'segment', (value) => drainOnComplete(value as never, { deadline: 1 }), [
    [undefined, TypeError, 'missing'],
    [42, TypeError],
    [of(1), TypeError, 'an Observable instead of an OperatorFunction'],
  ]),
  ...optionRows(
    'drainOnComplete',
    'options',
    (value) => drainOnComplete((s: Observable<number>) => s, value as never),
    OPTIONS_OBJECT,
  ),
  ...optionRows(
    'drainOnComplete',
    'deadline',
    (value) => drainOnComplete((s: Observable<number>) => s, { deadline: value as never }),
    [
      [undefined, TypeError, 'missing'],
      ['5', TypeError],
      [-1, RangeError],
      [NaN, RangeError],
      [TOO_LONG, RangeError],
      [null, TypeError],
    ],
  ),
  ...optionRows(
    'drainOnComplete',
    'stop',
    (value) => drainOnComplete((s: Observable<number>) => s, { deadline: 1, stop: value as never }),
    [
      [5, TypeError],
      ['SIGTERM', TypeError],
      [{}, TypeError],
    ],
  ),
  ...optionRows(
    'drainOnComplete',
    'onReport',
    (value) => drainOnComplete((s: Observable<number>) => s, { deadline: 1, onReport: value as never }),
    [['log', TypeError]],
  ),
  ...optionRows(
    'drainOnComplete',
    'scheduler',
    (value) => drainOnComplete((s: Observable<number>) => s, { deadline: 1, scheduler: value as never }),
    [
      [{}, TypeError],
      [42, TypeError],
      [null, TypeError],
      [NO_NOW, TypeError, 'an object with schedule but no now'],
    ],
  ),
  {
    fn: 'drainOnComplete',
    input: 'deadlineError: "yes" (not a boolean)',
    run: () =>
      throwsNamed(
        () => drainOnComplete((s: Observable<number>) => s, { deadline: 1, deadlineError: 'yes' as never }),
        TypeError,
        /drainOnComplete: 'deadlineError' must be/,
      ),
  },
  ...optionRows(
    'drainOnComplete',
    'drainSource',
    (value) => drainOnComplete((s: Observable<number>) => s, { deadline: 1, drainSource: value as never }),
    [
      ['yes', TypeError],
      [1, TypeError],
    ],
  ),
  {
    fn: 'drainOnComplete',
    input: 'a segment that returns 42 instead of an Observable',
    run: () =>
      streamFails(
        (s) => s.pipe(drainOnComplete((() => 42) as never, { deadline: 1 })),
        TypeError,
        /drainOnComplete: 'segment'/,
      ),
  },
  {
    fn: 'drainOnComplete',
    input: 'a segment that throws when applied (the stream fails with it)',
    run: () => {
      const boom = new Error('segment threw');
      const segment: OperatorFunction<number, number> = () => {
        throw boom;
      };
      return streamFails((s) => s.pipe(drainOnComplete(segment, { deadline: 1 })), undefined, boom);
    },
  },
  {
    fn: 'drainOnComplete',
    input: 'an onReport callback that throws',
    run: async () => {
      const thrown = new Error('onReport threw');
      const unhandled: unknown[] = [];
      const previous = config.onUnhandledError;
      config.onUnhandledError = (err) => unhandled.push(err);
      let ended = false;
      let error: unknown;
      const subscription = of(1)
        .pipe(
          drainOnComplete((s: Observable<number>) => s, {
            deadline: 1,
            onReport: () => {
              throw thrown;
            },
          }),
        )
        .subscribe({
          error: (err: unknown) => {
            ended = true;
            error = err;
          },
          complete: () => (ended = true),
        });
      try {
        await settle();
      } finally {
        config.onUnhandledError = previous;
      }
      // Either delivered as the stream's error or reported as unhandled: not lost, not hanging.
      assert.equal(ended, true, 'the output never ended');
      assert.ok(error === thrown || unhandled.includes(thrown), 'the error thrown by onReport vanished');
      assert.equal(subscription.closed, true);
    },
  },
  {
    fn: 'drainOnComplete',
    input: 'a demand-aware source that sends values nobody requested (ProtocolError citing rule 1.1)',
    run: () => {
      const up = rogue();
      const p = pull(up.source.pipe(drainOnComplete((s: Observable<number>) => s, { deadline: Infinity })), 1);
      for (let i = 0; i < 3; i++) up.observer().next(i);
      assert.deepEqual(p.values, [0]);
      assert.equal(p.errors.length, 1);
      assert.ok(p.errors[0] instanceof ProtocolError);
      assert.match((p.errors[0] as Error).message, /^drainOnComplete: .*rule 1\.1/);
    },
  },

  // ---- isDemandAware ----
  ...[42, 'stream', {}].map((value): BadInput => ({
    fn: 'isDemandAware',
    input: describe(value),
    run: () => assert.equal(isDemandAware(value as never), false),
  })),
  ...[null, undefined].map((value): BadInput => ({
    fn: 'isDemandAware',
    input: String(value),
    run: () => assert.equal(isDemandAware(value as never), false),
  })),

  // ---- misbehaving sources and consumers, for every stage ----
  ...stageRows(),

  // ---- unknown option keys, and options that would hide a failure ----
  ...unknownKeyRows(),
  // ---- keyed concurrency, timeouts, batches by weight (issue 16) ----
  ...poolKeyTimeoutRows('mergeWorkers'),
  ...poolKeyTimeoutRows('orderedMerge'),
  ...weightRows(),
  // ---- one-shot inputs, factories, messages that name the fix ----
  ...oneShotRows(),
  ...messageRows(),

  // ---- an explicit undefined is an absent option, for every optional option ----
  ...explicitUndefinedRows(),
  // ---- rateLimit, broadcast (issue 16) ----
  ...rateLimitRows(),
  ...broadcastRows(),
];

/** A misspelt or unknown option key is a TypeError naming the operator, the key and the nearest known key. */
function unknownKeyRows(): BadInput[] {
  const work = async (x: number): Promise<number> => x;
  const cases: [string, string, string | undefined, () => unknown][] = [
    ['boundedBuffer', 'ondrop', 'onDrop', () => boundedBuffer({ capacity: 1, overflow: 'error', ondrop: 1 } as never)],
    ['channel', 'maxPendingSend', 'maxPendingSends', () => channel({ capacity: 1, maxPendingSend: 2 } as never)],
    ['toAsyncIterable', 'capcity', 'capacity', () => toAsyncIterable(of(1), { capcity: 2 } as never)],
    ['mergeWorkers', 'retries', 'retry', () => mergeWorkers(work, { concurrency: 2, retries: 3 } as never)],
    ['mergeWorkers', 'window', undefined, () => mergeWorkers(work, { concurrency: 2, window: 4 } as never)],
    ['orderedMerge', 'windw', 'window', () => orderedMerge(work, { concurrency: 2, windw: 4 } as never)],
    ['batchFresh', 'maxwait', 'maxWait', () => batchFresh({ size: 2, maxwait: 5 } as never)],
    ['drainOnComplete', 'deadLine', 'deadline', () => drainOnComplete((s) => s, { deadLine: 5 } as never)],
  ];
  const rows = cases.map(([fn, key, near, call]): BadInput => ({
    fn,
    input: `an unknown option key '${key}'`,
    run: () =>
      throwsNamed(
        call,
        TypeError,
        new RegExp(`^${fn}: unknown option '${key}'${near === undefined ? ' \\(' : `; did you mean '${near}'\\?`}`),
      ),
  }));
  rows.push(
    {
      fn: 'mergeWorkers',
      input: "an unknown key in 'retry' ('dealy')",
      run: () =>
        throwsNamed(
          () => mergeWorkers(work, { concurrency: 1, retry: { count: 1, dealy: 5 } } as never),
          TypeError,
          /^mergeWorkers: unknown option 'dealy' in 'retry'; did you mean 'delay'\?/,
        ),
    },
    {
      fn: 'channel.send',
      input: "an unknown key in the send options ('sigal')",
      run: async () => {
        const ch = channel<number>({ capacity: 1 });
        await assert.rejects(
          ch.send(1, { sigal: undefined } as never),
          /^TypeError: channel.send: unknown option 'sigal'/,
        );
      },
    },
    {
      fn: 'mergeWorkers',
      input: "errors: 'continue' without onError (failures would be visible only in a monitor)",
      run: () =>
        throwsNamed(
          () => mergeWorkers(work, { concurrency: 1, errors: 'continue' }),
          TypeError,
          /^mergeWorkers: errors: 'continue' needs 'onError'/,
        ),
    },
    {
      fn: 'orderedMerge',
      input: "errors: 'continue' without onError",
      run: () =>
        throwsNamed(
          () => orderedMerge(work, { concurrency: 1, errors: 'continue' }),
          TypeError,
          /^orderedMerge: errors: 'continue' needs 'onError'/,
        ),
    },
  );
  return rows;
}

/** Sources that break the rules, and a consumer that re-enters the source, against every stage. */
function stageRows(): BadInput[] {
  const stages: [string, () => OperatorFunction<number, unknown>][] = [
    ['boundedBuffer', () => boundedBuffer<number>({ capacity: 4, overflow: 'error' })],
    ['mergeWorkers', () => mergeWorkers(work, { concurrency: 2 })],
    ['orderedMerge', () => orderedMerge(work, { concurrency: 2 })],
    ['batchFresh', () => batchFresh<number>({ size: 1 })],
    ['drainOnComplete', () => drainOnComplete(mergeWorkers(work, { concurrency: 1 }), { deadline: Infinity })],
    ['rateLimit', () => rateLimit<number>({ count: 100, per: 1000 })],
    ['broadcast', () => broadcast<number>()],
  ];
  const flat = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);
  return stages.flatMap(([fn, stage]): BadInput[] => [
    {
      fn,
      input: 'a plain source that emits after completing (RxJS drops it; nothing follows completion)',
      run: () => {
        const got: unknown[] = [];
        const misbehaving = new Observable<number>((subscriber) => {
          subscriber.next(1);
          subscriber.complete();
          subscriber.next(2);
          subscriber.error(new Error('late'));
        });
        misbehaving.pipe(stage()).subscribe({ next: (v) => got.push(flat(v)), complete: () => got.push('|') });
        assert.deepEqual(got, [1, '|']);
      },
    },
    {
      fn,
      input: 'a demand-aware source that signals after completing (ignored; nothing follows completion)',
      run: () => {
        const up = rogue();
        const got: unknown[] = [];
        up.source.pipe(stage()).subscribe({
          next: (v) => got.push(flat(v)),
          error: (e: unknown) => got.push(e),
          complete: () => got.push('|'),
        });
        const o = up.observer();
        o.next(1);
        o.complete();
        o.next(2);
        o.complete();
        o.error(new Error('late'));
        assert.deepEqual(got, [1, '|']);
      },
    },
    {
      fn,
      input: 'a consumer that pushes into the source from inside next (re-entrant next)',
      run: () => {
        const subject = new Subject<number>();
        const got: unknown[] = [];
        subject.pipe(stage()).subscribe((v) => {
          const n = flat(v) as number;
          got.push(n);
          if (n < 5) subject.next(n + 1);
        });
        subject.next(0);
        subject.complete();
        assert.deepEqual(got, [0, 1, 2, 3, 4, 5]);
      },
    },
  ]);
}

/** Runs `source` to its end with unbounded demand: what came out, and how it ended. */
async function runToEnd(
  source: Observable<unknown>,
): Promise<{ values: unknown[]; error: unknown; completed: boolean }> {
  const values: unknown[] = [];
  let error: unknown;
  let completed = false;
  const subscription = source.subscribe({
    next: (v) => values.push(v),
    error: (e: unknown) => (error = e),
    complete: () => (completed = true),
  });
  await settle();
  assert.equal(subscription.closed, true, 'the stream did not end');
  return { values, error, completed };
}

/** The message of a second subscription to a one-shot input; it names the fix. */
const ONE_SHOT =
  /^fromPull: the input is a one-shot source .* Fix: pass a factory instead, .*fromPull\(\(\) => iterable\)$/;

function* upTo3(): Generator<number> {
  yield 1;
  yield 2;
  yield 3;
}

/** A second read of a one-shot source fails loudly; a factory is read afresh each time. */
function oneShotRows(): BadInput[] {
  const secondFails = (input: string, make: () => PullInput<number>): BadInput => ({
    fn: 'fromPull',
    input: `${input}, subscribed twice (the second fails, naming fromPull(() => iterable))`,
    run: async () => {
      const source = fromPull(make());
      assert.deepEqual((await runToEnd(source)).values, [1, 2, 3]);
      const second = await runToEnd(source);
      assert.equal(second.completed, false, 'the second subscription completed empty');
      assert.ok(second.error instanceof TypeError);
      assert.match(second.error.message, ONE_SHOT);
    },
  });
  return [
    secondFails('a generator object', () => upTo3()),
    secondFails('an array iterator ([].values())', () => [1, 2, 3].values()),
    secondFails('an async generator object', async function* () {
      yield* upTo3();
    }),
    secondFails(
      'a web ReadableStream',
      () =>
        new ReadableStream<number>({
          start(controller) {
            for (const v of upTo3()) controller.enqueue(v);
            controller.close();
          },
        }),
    ),
    {
      fn: 'fromPull',
      input: 'a factory that throws (documented: the stream fails with it)',
      run: async () => {
        const boom = new Error('cannot open');
        const result = await runToEnd(
          fromPull<number>(() => {
            throw boom;
          }),
        );
        assert.equal(result.error, boom);
      },
    },
    ...[42, undefined, null, {}, () => [1]].map((value): BadInput => ({
      fn: 'fromPull',
      input: `a factory that returns ${describe(value)}`,
      run: async () => {
        const { error } = await runToEnd(fromPull(() => value as never));
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /^fromPull: 'input' must return an iterable or async iterable, but it returned /);
      },
    })),
    {
      fn: 'fromPull',
      input: 'a factory that returns the same generator object each time (the second read fails, naming the fix)',
      run: async () => {
        const g = upTo3();
        const source = fromPull(() => g);
        assert.deepEqual((await runToEnd(source)).values, [1, 2, 3]);
        const { error } = await runToEnd(source);
        assert.ok(error instanceof TypeError);
        assert.match(
          error.message,
          /^fromPull: the factory returned a one-shot source .* inside the factory on each call/,
        );
      },
    },
    {
      fn: 'fromPull',
      input: 'a factory, subscribed three times (documented: called each time, for a fresh input)',
      run: async () => {
        let calls = 0;
        const source = fromPull(() => {
          calls++;
          return upTo3();
        });
        for (let i = 0; i < 3; i++) assert.deepEqual((await runToEnd(source)).values, [1, 2, 3]);
        assert.equal(calls, 3);
      },
    },
  ];
}

/** Messages that must read right and name the option to change. */
function messageRows(): BadInput[] {
  return [
    {
      fn: 'drainOnComplete',
      input: 'a segment that returns 42 (the message says what it returned)',
      run: () =>
        streamFails(
          (s) => s.pipe(drainOnComplete((() => 42) as never, { deadline: 1 })),
          TypeError,
          /^drainOnComplete: 'segment' must return an Observable, but it returned 42$/,
        ),
    },
    {
      fn: 'batchFresh',
      input: 'more closed batches than maxPending waiting (the OverflowError names maxPending)',
      run: () => {
        const p = pull(from([1, 2, 3, 4, 5]).pipe(batchFresh({ size: 1, maxPending: 2 })), 0);
        assert.equal(p.errors.length, 1);
        const err = p.errors[0];
        assert.ok(err instanceof OverflowError);
        assert.equal(err.option, 'maxPending');
        assert.match(err.message, /^batchFresh: queue overflow \(capacity 2 batches, set by the 'maxPending' option, /);
      },
    },
  ];
}

/**
 * Every optional option of every public operator, passed as an explicit `undefined` (what
 * `{ monitor: cond ? m : undefined }` produces): accepted, and the same as leaving it out.
 */
function explicitUndefinedRows(): BadInput[] {
  const u = undefined;
  const poolUndefined = {
    errors: u,
    onError: u,
    retry: u,
    scheduler: u,
    capacity: u,
    resultCapacity: u,
    overflow: u,
    onDrop: u,
    monitor: u,
  };
  const same = async (fn: string, make: (explicit: boolean) => Observable<unknown>): Promise<void> => {
    const absent = await runToEnd(make(false));
    const explicit = await runToEnd(make(true));
    assert.deepEqual(explicit, absent, `${fn}: an explicit undefined changed the outcome`);
    assert.equal(explicit.completed, true);
  };
  const row = (fn: string, make: (explicit: boolean) => Observable<unknown>): BadInput => ({
    fn,
    input: 'every optional option explicitly undefined (documented: as if absent)',
    run: () => same(fn, make),
  });
  return [
    row('boundedBuffer', (x) =>
      of(1, 2, 3).pipe(
        boundedBuffer(
          x
            ? { capacity: 2, overflow: 'drop-newest', onDrop: u, monitor: u, delayError: u }
            : { capacity: 2, overflow: 'drop-newest' },
        ),
      ),
    ),
    row('mergeWorkers', (x) =>
      of(1, 2, 3).pipe(mergeWorkers(work, x ? { concurrency: 2, ...poolUndefined } : { concurrency: 2 })),
    ),
    row('orderedMerge', (x) =>
      of(1, 2, 3).pipe(orderedMerge(work, x ? { concurrency: 2, ...poolUndefined, window: u } : { concurrency: 2 })),
    ),
    row('mergeWorkers', (x) => {
      let failed = false;
      const flaky = (v: number) =>
        v === 2 && !failed ? ((failed = true), throwError(() => new Error('once'))) : of(v);
      const retry = x
        ? { count: 1, delay: 0, maxDelay: u, jitter: u, random: u, shouldRetry: u }
        : { count: 1, delay: 0 };
      // queueScheduler: the retry runs at once, with no timer.
      return of(1, 2, 3).pipe(mergeWorkers(flaky, { concurrency: 1, retry, scheduler: queueScheduler }));
    }),
    row('batchFresh', (x) =>
      of(1, 2, 3).pipe(
        batchFresh(
          x
            ? {
                size: 2,
                maxWait: u,
                scheduler: u,
                onError: u,
                freeze: u,
                maxPending: u,
                overflow: u,
                monitor: u,
              }
            : { size: 2 },
        ),
      ),
    ),
    row('drainOnComplete', (x) =>
      of(1, 2, 3).pipe(
        drainOnComplete(
          (s: Observable<number>) => s,
          x ? { deadline: 10, stop: u, drainSource: u, onReport: u, deadlineError: u, scheduler: u } : { deadline: 10 },
        ),
      ),
    ),
    row('channel', (x) => {
      const ch = channel<number>(x ? { capacity: 3, maxPendingSends: u } : { capacity: 3 });
      void ch.send(1, x ? { signal: u } : undefined);
      ch.trySend(2);
      ch.close();
      return ch.observable;
    }),
    {
      fn: 'toAsyncIterable',
      input: 'every optional option explicitly undefined (documented: as if absent)',
      run: async () => {
        const got: number[] = [];
        const options = { capacity: u, overflow: u, onDrop: u, monitor: u };
        for await (const v of toAsyncIterable(of(1, 2, 3), options)) got.push(v);
        assert.deepEqual(got, [1, 2, 3]);
      },
    },
  ];
}

/** How many invalid inputs the table tries (docs/reliability.md quotes it). */
export const INVALID_INPUTS_TRIED = BAD_INPUTS.length;

/** rateLimit's options, and a source that sends more than it was asked for. */
function rateLimitRows(): BadInput[] {
  const withOption = (name: string) => (value: unknown) => rateLimit({ count: 2, per: 10, [name]: value });
  return [
    ...optionRows('rateLimit', 'options', (value) => rateLimit(value as never), OPTIONS_OBJECT),
    ...optionRows(
      'rateLimit',
      'count',
      (value) => rateLimit({ count: value as never, per: 10 }),
      positiveIntegerRows(true),
    ),
    ...optionRows('rateLimit', 'per', (value) => rateLimit({ count: 1, per: value as never }), [
      [undefined, TypeError, 'missing'],
      [0, RangeError],
      [-1, RangeError],
      [NaN, RangeError],
      [Infinity, RangeError],
      [TOO_LONG, RangeError],
      ['10', TypeError],
    ]),
    ...optionRows('rateLimit', 'burst', withOption('burst'), [
      ...positiveIntegerRows(false),
      [3, RangeError, '3 with count 2 (more than count)'],
    ]),
    ...optionRows('rateLimit', 'scheduler', withOption('scheduler'), [
      [{}, TypeError],
      [42, TypeError],
      [null, TypeError],
      [NO_NOW, TypeError, 'an object with schedule but no now'],
    ]),
    ...optionRows('rateLimit', 'capacity', withOption('capacity'), positiveIntegerRows(false)),
    ...optionRows('rateLimit', 'overflow', withOption('overflow'), [
      ['block', TypeError],
      ['drop', TypeError],
      [42, TypeError],
    ]),
    ...optionRows('rateLimit', 'onDrop', withOption('onDrop'), [[42, TypeError]]),
    ...optionRows('rateLimit', 'monitor', withOption('monitor'), [
      [{}, TypeError],
      [{ snapshot: () => ({}) }, TypeError, 'a look-alike object'],
      [bufferMonitor(), TypeError, "bufferMonitor() (another operator's kind)"],
    ]),
    {
      fn: 'rateLimit',
      input: "an unknown option key ('rate')",
      run: () =>
        throwsNamed(
          () => rateLimit({ count: 1, per: 1, rate: 2 } as never),
          TypeError,
          /rateLimit: unknown option 'rate'/,
        ),
    },
    {
      fn: 'rateLimit',
      input: 'a demand-aware source that sends values nobody requested (ProtocolError citing rule 1.1)',
      run: () => {
        const up = rogue();
        const p = pull(up.source.pipe(rateLimit({ count: 1, per: 10 })), 5);
        for (let i = 0; i < 3; i++) up.observer().next(i);
        assert.deepEqual(p.values, [0]);
        assert.equal(p.errors.length, 1);
        assert.ok(p.errors[0] instanceof ProtocolError);
        assert.match((p.errors[0] as Error).message, /^rateLimit: .*rule 1\.1/);
      },
    },
  ];
}

/** broadcast's options, a source that sends more than it was asked for, and a subscriber that asks for 0. */
function broadcastRows(): BadInput[] {
  const withOption = (name: string) => (value: unknown) => broadcast({ [name]: value });
  const withLag = (value: unknown) => broadcast({ maxLag: 1, onLag: value as never });
  return [
    ...optionRows('broadcast', 'options', (value) => broadcast(value as never), OPTIONS_OBJECT.slice(1)),
    ...optionRows('broadcast', 'connectAt', withOption('connectAt'), positiveIntegerRows(false)),
    ...optionRows('broadcast', 'maxLag', withOption('maxLag'), positiveIntegerRows(false)),
    ...optionRows('broadcast', 'onLag', withLag, [
      ['skip', TypeError],
      [42, TypeError],
      [null, TypeError],
    ]),
    {
      fn: 'broadcast',
      input: 'onLag without maxLag (nobody can lag; the option would do nothing)',
      run: () => throwsNamed(() => broadcast({ onLag: 'drop' }), TypeError, /broadcast: 'onLag' needs 'maxLag'/),
    },
    ...optionRows('broadcast', 'onDrop', withOption('onDrop'), [[42, TypeError]]),
    ...optionRows('broadcast', 'capacity', withOption('capacity'), positiveIntegerRows(false)),
    ...optionRows('broadcast', 'overflow', withOption('overflow'), [
      ['block', TypeError],
      ['drop', TypeError],
      [42, TypeError],
    ]),
    ...optionRows('broadcast', 'monitor', withOption('monitor'), [
      [{}, TypeError],
      [{ snapshot: () => ({}) }, TypeError, 'a look-alike object'],
      [rateMonitor(), TypeError, "rateMonitor() (another operator's kind)"],
    ]),
    {
      fn: 'broadcast',
      input: "an unknown option key ('maxlag', a typo)",
      run: () => throwsNamed(() => broadcast({ maxlag: 2 } as never), TypeError, /did you mean 'maxLag'\?/),
    },
    {
      fn: 'broadcast',
      input: 'a demand-aware source that sends values nobody requested (ProtocolError citing rule 1.1)',
      run: () => {
        const up = rogue();
        const p = pull(up.source.pipe(broadcast()), 1);
        for (let i = 0; i < 3; i++) up.observer().next(i);
        assert.deepEqual(p.values, [0]);
        assert.equal(p.errors.length, 1);
        assert.ok(p.errors[0] instanceof ProtocolError);
        assert.match((p.errors[0] as Error).message, /^broadcast: .*rule 1\.1/);
      },
    },
    {
      fn: 'broadcast',
      input: 'a subscriber that requests 0: a ProtocolError to it alone; the others go on',
      run: () => {
        const shared = fromPull([1, 2, 3]).pipe(broadcast({ connectAt: 2, maxLag: 1, onLag: 'detach' }));
        let bad: DemandHandle | undefined;
        const errors: unknown[] = [];
        demandProtocolOf(shared)!.subscribe({
          start: (h) => (bad = h),
          next: () => undefined,
          error: (e) => errors.push(e),
          complete: () => undefined,
        });
        const good: unknown[] = [];
        shared.subscribe({ next: (v) => good.push(v), complete: () => good.push('|') });
        bad!.request(0);
        assert.ok(errors[0] instanceof ProtocolError);
        assert.ok(!(errors[0] instanceof LagError));
        assert.deepEqual(good, [1, 2, 3, '|']);
      },
    },
  ];
}

/** `key` and `timeout` on a pool: the wrong type or range fails at the call, naming the parameter. */
function poolKeyTimeoutRows(fn: 'mergeWorkers' | 'orderedMerge'): BadInput[] {
  const make = fn === 'mergeWorkers' ? mergeWorkers : orderedMerge;
  const work = async (x: number): Promise<number> => x;
  const timeouts: [unknown, ErrorClass, RegExp][] = [
    [0, RangeError, new RegExp(`^${fn}: 'timeout' must be a finite number of ms > 0, got 0`)],
    [-5, RangeError, /'timeout' must be a finite number of ms > 0, got -5/],
    [Number.NaN, RangeError, /'timeout' must be a finite number of ms > 0, got NaN/],
    [Infinity, RangeError, /'timeout' must be a finite number of ms > 0, got Infinity/],
    [2 ** 31, RangeError, /'timeout' must be a number of ms up to 2147483647/],
    ['10', TypeError, /'timeout' must be a number of ms > 0, got "10"/],
    [null, TypeError, /'timeout' must be a number of ms > 0, got null/],
  ];
  const rows = timeouts.map(([value, type, message]): BadInput => ({
    fn,
    input: `timeout ${describe(value)}`,
    run: () => throwsNamed(() => make(work, { concurrency: 1, timeout: value as never }), type, message),
  }));
  for (const value of [42, 'id', null, {}]) {
    rows.push({
      fn,
      input: `key ${describe(value)} (not a function)`,
      run: () =>
        throwsNamed(
          () => make(work, { concurrency: 1, key: value as never }),
          TypeError,
          new RegExp(`^${fn}: 'key' must be a function`),
        ),
    });
  }
  rows.push({
    fn,
    input: 'a key function that throws (the stream fails with what it threw)',
    run: () => {
      const boom = new Error('no key');
      const errors: unknown[] = [];
      of(1, 2)
        .pipe(
          make(work, {
            concurrency: 2,
            key: () => {
              throw boom;
            },
          }),
        )
        .subscribe({ error: (e: unknown) => errors.push(e) });
      assert.deepEqual(errors, [boom]);
    },
  });
  return rows;
}

/** batchFresh's `weight`, `maxWeight` and `oversized`. */
function weightRows(): BadInput[] {
  const len = (s: unknown): number => String(s).length;
  const cases: [string, () => unknown, ErrorClass, RegExp][] = [
    [
      'weight without maxWeight',
      () => batchFresh({ weight: len }),
      TypeError,
      /^batchFresh: 'weight' and 'maxWeight' go together/,
    ],
    [
      'maxWeight without weight',
      () => batchFresh({ maxWeight: 3 }),
      TypeError,
      /^batchFresh: 'weight' and 'maxWeight' go together/,
    ],
    [
      'maxWeight 0',
      () => batchFresh({ weight: len, maxWeight: 0 }),
      RangeError,
      /^batchFresh: 'maxWeight' must be a finite number > 0, got 0/,
    ],
    [
      'maxWeight -1',
      () => batchFresh({ weight: len, maxWeight: -1 }),
      RangeError,
      /'maxWeight' must be a finite number > 0, got -1/,
    ],
    [
      'maxWeight NaN',
      () => batchFresh({ weight: len, maxWeight: Number.NaN }),
      RangeError,
      /'maxWeight' must be a finite number > 0, got NaN/,
    ],
    [
      'maxWeight Infinity',
      () => batchFresh({ weight: len, maxWeight: Infinity }),
      RangeError,
      /'maxWeight' must be a finite number > 0, got Infinity/,
    ],
    [
      "maxWeight '3'",
      () => batchFresh({ weight: len, maxWeight: '3' as never }),
      TypeError,
      /^batchFresh: 'maxWeight' must be a finite number > 0, got "3"/,
    ],
    [
      'weight 3 (not a function)',
      () => batchFresh({ weight: 3 as never, maxWeight: 3 }),
      TypeError,
      /^batchFresh: 'weight' must be a function/,
    ],
    [
      "oversized 'split'",
      () => batchFresh({ weight: len, maxWeight: 3, oversized: 'split' as never }),
      TypeError,
      /^batchFresh: 'oversized' must be 'alone' or 'error'/,
    ],
    [
      'oversized without weight',
      () => batchFresh({ size: 2, oversized: 'error' }),
      TypeError,
      /^batchFresh: 'oversized' needs 'weight' and 'maxWeight'/,
    ],
  ];
  const rows = cases.map(([input, call, type, message]): BadInput => ({
    fn: 'batchFresh',
    input,
    run: () => throwsNamed(call, type, message),
  }));
  for (const [input, weigh, message] of [
    ['a weight of NaN', () => Number.NaN, /^TypeError: batchFresh: 'weight' must return a finite number >= 0, got NaN/],
    ['a negative weight', () => -1, /'weight' must return a finite number >= 0, got -1/],
    ['a weight that is a string', () => '2' as never, /'weight' must return a finite number >= 0, got 2/],
  ] as const) {
    rows.push({
      fn: 'batchFresh',
      input: `${input} (the stream fails, naming 'weight')`,
      run: () => {
        const errors: unknown[] = [];
        of(1)
          .pipe(batchFresh({ weight: weigh, maxWeight: 5 }))
          .subscribe({ error: (e: unknown) => errors.push(e) });
        assert.equal(errors.length, 1);
        assert.match(String(errors[0]), message);
      },
    });
  }
  return rows;
}
