import { demandSource, type Producer, type ProducerSink } from '../lib/core/producer.js';
import { END, type DemandObservable } from '../lib/core/protocol.js';
import { optionTypeError, reportUnhandled, returnTypeError } from '../lib/core/errors.js';

const NAME = 'fromPull';

/**
 * A demand-aware source over an iterable or async iterable, or a factory of one: it takes the
 * next value only when downstream has asked for one.
 *
 * ![fromPull: one value per request](../docs/diagrams/fromPull-request.svg)
 *
 * Each subscription asks the input for a fresh iterator and calls `next()` once per unit of
 * demand; an async iterator is asked for one value at a time. Given a factory,
 * `fromPull(() => iterable)`, each subscription first calls it for a fresh input (like `defer`);
 * a factory that throws, or returns something that is not iterable, fails that subscription.
 * Unsubscribing before the end calls the iterator's `return()`, so a generator's `finally` runs
 * and a Node `Readable` or a web `ReadableStream` is destroyed or cancelled, even while a read is
 * pending. A `ReadableStream` is read through its reader, so one without `[Symbol.asyncIterator]`
 * (Safari's) works too, and is released on unsubscribe. An error thrown by the iterator (or by
 * asking for it) becomes the stream's error. With an ordinary subscriber (unbounded demand) it
 * behaves like RxJS's `from`.
 *
 * An array completes as soon as its last element is emitted; any other iterator completes when
 * it says so, which takes one more request (a pool whose slots are all busy asks only when one
 * frees up).
 *
 * ## Warnings
 * A one-shot input (a generator object, an iterator whose `[Symbol.iterator]()` returns itself, a
 * `readline` interface, a Node `Readable`, a web `ReadableStream`) can be read by one subscription
 * only. A second subscription (a `retry` or `repeat` around it, a late `share` subscriber) fails
 * with a TypeError naming the fix rather than completing empty: pass a factory that makes a fresh
 * one, `fromPull(() => gen())`. Arrays, Sets, Maps, strings and other iterables that hand out a
 * fresh iterator can be subscribed any number of times.
 *
 * An async generator cannot be interrupted: if it is awaiting when the subscriber unsubscribes,
 * its `finally` runs once that await settles. A `readline` interface's iterator does not close
 * the interface or its input when returned; destroy the input stream in a generator's `finally`
 * (see the example), not with `finalize`: a native operator between fromPull and the next
 * library stage drops the handshake, and the reader would be read at full speed again.
 *
 * Failure modes guarded against: an unbounded queue in front of a slow consumer (PP-04): the
 * reader is paused instead; a cancelled pipeline leaving a live producer (ML-10); a retry that
 * resubscribes to an exhausted generator and loses the rest of its values.
 *
 * ## Example
 * ```ts
 * async function* lines(path: string) {
 *   const input = createReadStream(path);
 *   try {
 *     yield* readline.createInterface({ input, crlfDelay: Infinity });
 *   } finally {
 *     input.destroy();
 *   }
 * }
 * // A factory: a retry after a failed value reopens the file instead of reading an exhausted one.
 * fromPull(() => lines(path))
 *   .pipe(mergeWorkers(parseAndStore, { concurrency: 4 }), retry({ count: 2 }))
 *   .subscribe();
 * ```
 *
 * @see {@link channel}, {@link toAsyncIterable}
 * @param input An iterable or async iterable (an array, a generator, a Readable, a ReadableStream),
 * or a function returning one, called per subscription.
 * @return A demand-aware Observable of the input's values.
 */
export function fromPull<T>(input: PullInput<T> | (() => PullInput<T>)): DemandObservable<T> {
  if (typeof input === 'function') {
    const factory = input;
    return demandSource<T>(NAME, (sink) => openMade(factory, sink));
  }
  const open = openerOf<T>(input);
  if (open === undefined)
    throw optionTypeError(NAME, 'input', 'an iterable, an async iterable or a factory of one', input);
  return demandSource<T>(NAME, (sink) => open(sink, false));
}

/**
 * What fromPull reads: an iterable, an async iterable, or a web ReadableStream (also one without
 * `[Symbol.asyncIterator]`, as Safari's are).
 */
export type PullInput<T> = Iterable<T> | AsyncIterable<T> | ReadableStreamLike<T>;

/**
 * The part of a web `ReadableStream` that fromPull uses, written out so that the type needs
 * neither the DOM library nor Node's types.
 */
export interface ReadableStreamLike<T> {
  getReader(): {
    read(): Promise<{ done: false; value: T } | { done: true; value?: T | undefined }>;
    cancel(reason?: unknown): Promise<void>;
    releaseLock(): void;
  };
}

/** Starts reading one input for one subscription; `made`: the input came from a factory. */
type Opener<T> = (sink: ProducerSink<T>, made: boolean) => Producer<T>;

/**
 * The iterators and streams that a subscription has already read. A one-shot input (a generator
 * object, any iterator whose [Symbol.iterator]() returns itself, a readline interface, a Node
 * Readable, a web ReadableStream) gives the same exhausted source to every later subscription,
 * which would complete empty: a retry or a late share subscriber would lose values silently.
 * Weak, so that remembering a source never keeps it alive.
 */
const alreadyRead = new WeakSet<object>();

/** A factory per subscription: `retry`, `repeat` and a late `share` subscriber each read a fresh input. */
function openMade<T>(factory: () => PullInput<T>, sink: ProducerSink<T>): Producer<T> {
  let input: PullInput<T>;
  try {
    input = factory();
  } catch (err) {
    return failed(sink, err);
  }
  const open = openerOf<T>(input);
  if (open === undefined) {
    return failed(sink, returnTypeError(NAME, 'input', 'an iterable or async iterable', input));
  }
  return open(sink, true);
}

/** How to read `input`, decided once per fromPull call (per factory result); undefined if not iterable. */
function openerOf<T>(input: unknown): Opener<T> | undefined {
  if (input === null || (typeof input !== 'object' && typeof input !== 'string')) return undefined;
  // Before the async iterator: a web stream is read through its reader, and Safari's streams
  // have getReader() but no [Symbol.asyncIterator].
  if (isWebStream<T>(input)) {
    // Claimed before getReader(): a refused subscription must not lock the stream.
    return (sink, made) =>
      claim(input, sink, made, () =>
        opened(
          () => readerIterator(input),
          sink,
          (iterator) => pullAsync(iterator, sink, undefined),
        ),
      );
  }
  const asyncFactory = (input as Partial<AsyncIterable<T>>)[Symbol.asyncIterator];
  if (typeof asyncFactory === 'function') return asyncOpener(input as AsyncIterable<T>, asyncFactory);
  if (Array.isArray(input)) {
    const array = input as readonly T[];
    return (sink) => pullArray(array, sink);
  }
  const syncFactory = (input as Partial<Iterable<T>>)[Symbol.iterator];
  if (typeof syncFactory !== 'function') return undefined;
  return (sink, made) =>
    opened(
      () => syncFactory.call(input),
      sink,
      (iterator) => claim(iterator, sink, made, () => pullSync(iterator, sink)),
    );
}

function asyncOpener<T>(input: AsyncIterable<T>, factory: () => AsyncIterator<T>): Opener<T> {
  const destroy = nodeStreamDestroyer(input);
  // A Node stream makes a new iterator per call but can be read only once: it is the stream that
  // is used up. Any other input is used up when it hands out an iterator it handed out before.
  const stream = destroy === undefined ? undefined : input;
  return (sink, made) =>
    opened(
      () => factory.call(input),
      sink,
      (iterator) => claim(stream ?? iterator, sink, made, () => pullAsync(iterator, sink, destroy)),
    );
}

/**
 * Reads `source` unless a subscription already did: then the subscription fails loudly, naming
 * the fix, instead of completing empty.
 */
function claim<T>(source: object, sink: ProducerSink<T>, made: boolean, start: () => Producer<T>): Producer<T> {
  if (alreadyRead.has(source)) return failed(sink, oneShotError(made));
  alreadyRead.add(source);
  return start();
}

function oneShotError(made: boolean): TypeError {
  const what = made
    ? 'the factory returned a one-shot source (a generator object, an iterator, a stream, a readline interface) that an earlier subscription already read'
    : 'the input is a one-shot source (a generator object, an iterator, a stream, a readline interface) that an earlier subscription already read';
  const fix = made
    ? 'make a fresh one inside the factory on each call: fromPull(() => iterable)'
    : 'pass a factory instead, so that each subscription (retry, repeat, a late share subscriber) reads a fresh one: fromPull(() => iterable)';
  return new TypeError(`${NAME}: ${what}; this subscription would complete empty and lose its values. Fix: ${fix}`);
}

function failed(sink: ProducerSink<unknown>, err: unknown): Producer {
  sink.error(err);
  return { pump: noop, teardown: noop };
}

/**
 * A throwing `[Symbol.iterator]()` is an error of this subscription, not of the caller of
 * subscribe: a demand-aware consumer would otherwise be left holding a handle with no producer.
 */
function opened<I, T>(open: () => I, sink: ProducerSink<unknown>, start: (iterator: I) => Producer<T>): Producer<T> {
  let iterator: I;
  try {
    iterator = open();
  } catch (err) {
    return failed(sink, err);
  }
  return start(iterator);
}

function pullSync<T>(iterator: Iterator<T>, sink: ProducerSink<T>): Producer<T> {
  let finished = false;

  // One value on the spot; what a fused consumer calls instead of requesting (DemandHandle.fuse).
  function poll(): T | typeof END {
    if (finished) return END;
    let result: IteratorResult<T>;
    try {
      result = iterator.next();
    } catch (err) {
      return fail(err);
    }
    // The usual case inline; the end and a malformed result out of line, so that V8 inlines
    // this poll into the stage that pulls.
    if (typeof result === 'object' && result !== null && result.done !== true) return result.value;
    return ended(result);
  }

  function ended(result: IteratorResult<T>): typeof END {
    if (typeof result !== 'object' || result === null) return fail(notAResult(result));
    finished = true;
    sink.complete();
    return END;
  }

  function fail(err: unknown): typeof END {
    finished = true;
    sink.error(err);
    return END;
  }

  function pump(): void {
    while (sink.demand > 0) {
      const value = poll();
      if (value === END) return;
      sink.next(value);
    }
  }

  function teardown(): void {
    if (finished) return;
    finished = true;
    try {
      iterator.return?.();
    } catch (err) {
      reportUnhandled(err);
    }
  }

  return { pump, teardown, poll };
}

function pullAsync<T>(iterator: AsyncIterator<T>, sink: ProducerSink<T>, destroy: (() => void) | undefined): Producer {
  let finished = false;
  let pulling = false;

  function onResult(result: IteratorResult<T>): void {
    pulling = false;
    if (finished) return;
    let done: boolean;
    let value: T;
    try {
      done = resultDone(result);
      value = result.value as T;
    } catch (err) {
      onError(err);
      return;
    }
    if (done) {
      finished = true;
      sink.complete();
      return;
    }
    sink.next(value);
    sink.schedulePump();
  }

  function onError(err: unknown): void {
    pulling = false;
    if (finished) return;
    finished = true;
    sink.error(err);
  }

  function pump(): void {
    if (pulling || finished || sink.demand <= 0) return;
    pulling = true;
    let pending: Promise<IteratorResult<T>>;
    try {
      pending = Promise.resolve(iterator.next());
    } catch (err) {
      onError(err);
      return;
    }
    // A consumer that throws from next() has broken the protocol; that must not surface as an
    // unhandled rejection of a promise nobody can see.
    pending.then(onResult, onError).catch(reportUnhandled);
  }

  function teardown(): void {
    if (finished) return;
    finished = true;
    // A Readable's iterator is an async generator: its return() waits behind a pending next(),
    // which may never settle on an idle socket or pipe. Destroying the stream first ends both
    // now, and without the AbortError the iterator would destroy it with.
    try {
      destroy?.();
    } catch (err) {
      reportUnhandled(err);
    }
    try {
      const returned = iterator.return?.();
      if (returned !== undefined) Promise.resolve(returned).catch(reportUnhandled);
    } catch (err) {
      reportUnhandled(err);
    }
  }

  return { pump, teardown };
}

function resultDone(result: IteratorResult<unknown>): boolean {
  if (typeof result !== 'object' || result === null) throw notAResult(result);
  return result.done === true;
}

// Out of line, so the check above stays small enough for V8 to inline into the poll of every value.
function notAResult(result: unknown): TypeError {
  return new TypeError(`${NAME}: the iterator's next() returned ${String(result)}, not an iterator result object`);
}

function isWebStream<T>(input: object | string): input is ReadableStreamLike<T> {
  if (typeof input === 'string') return false;
  return typeof (input as Partial<ReadableStream<T>>).getReader === 'function';
}

/**
 * Reads a web ReadableStream through its own reader rather than its async iterator: the
 * iterator's return() also waits behind a pending read, while `reader.cancel()` ends that read
 * at once and cancels the underlying source.
 */
function readerIterator<T>(stream: ReadableStreamLike<T>): AsyncIterator<T> {
  const reader = stream.getReader();
  return {
    next: () =>
      reader.read().then(
        (result) => {
          if (result.done) reader.releaseLock();
          return result as IteratorResult<T>;
        },
        (err: unknown) => {
          reader.releaseLock();
          throw err;
        },
      ),
    return: () =>
      reader
        .cancel()
        .finally(() => reader.releaseLock())
        .then(() => ({ done: true, value: undefined })),
  };
}

/** `destroy` of a Node stream (duck-typed, so the package does not import node:stream). */
function nodeStreamDestroyer(input: object | string): (() => void) | undefined {
  const stream = input as { destroy?: unknown; destroyed?: unknown };
  if (typeof stream.destroy !== 'function' || typeof stream.destroyed !== 'boolean') return undefined;
  const destroy = stream.destroy as () => void;
  return () => {
    if (stream.destroyed !== true) destroy.call(stream);
  };
}

function noop(): void {}

/** An array's length is known, so it completes with its last element instead of one pull later. */
function pullArray<T>(array: readonly T[], sink: ProducerSink<T>): Producer<T> {
  let index = 0;
  return {
    pump() {
      while (sink.demand > 0 && index < array.length) sink.next(array[index++] as T);
      if (index >= array.length && !sink.closed) sink.complete();
    },
    poll() {
      if (index < array.length) return array[index++] as T;
      if (!sink.closed) sink.complete();
      return END;
    },
    teardown() {
      index = array.length;
    },
  };
}
