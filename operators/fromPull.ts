import { demandSource, type Producer, type ProducerSink } from '../lib/core/producer.js';
import type { DemandObservable } from '../lib/core/protocol.js';
import { optionTypeError, reportUnhandled } from '../lib/core/errors.js';

const NAME = 'fromPull';

/**
 * A demand-aware source over an iterable or async iterable: it takes the next value only when
 * downstream has asked for one.
 *
 * ![fromPull: one value per request](../docs/diagrams/fromPull-request.svg)
 *
 * Each subscription asks the input for a fresh iterator and calls `next()` once per unit of
 * demand; an async iterator is asked for one value at a time. Unsubscribing before the end calls
 * the iterator's `return()`, so a generator's `finally` runs and a Node `Readable` or a web
 * `ReadableStream` (both async iterable) is destroyed or cancelled, even while a read is
 * pending. An error thrown by the iterator (or by asking for it) becomes the stream's error.
 * With an ordinary subscriber (unbounded demand) it behaves like RxJS's `from`.
 *
 * An array completes as soon as its last element is emitted; any other iterator completes when
 * it says so, which takes one more request (a pool whose slots are all busy asks only when one
 * frees up).
 *
 * ## Warnings
 * An async generator cannot be interrupted: if it is awaiting when the subscriber unsubscribes,
 * its `finally` runs once that await settles. A `readline` interface's iterator does not close
 * the interface or its input when returned; destroy the input stream in a generator's `finally`
 * (see the example), not with `finalize`: a native operator between fromPull and the next
 * library stage drops the handshake, and the reader would be read at full speed again.
 *
 * Failure modes guarded against: an unbounded queue in front of a slow consumer (PP-04): the
 * reader is paused instead; a cancelled pipeline leaving a live producer (ML-10).
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
 * fromPull(lines(path)).pipe(mergeWorkers(parseAndStore, { concurrency: 4 })).subscribe();
 * ```
 *
 * @see {@link channel}, {@link toAsyncIterable}
 * @param input An iterable or async iterable (a generator, an array, a Readable, a ReadableStream).
 * @return A demand-aware Observable of the input's values.
 */
export function fromPull<T>(input: Iterable<T> | AsyncIterable<T>): DemandObservable<T> {
  if (input === null || (typeof input !== 'object' && typeof input !== 'function' && typeof input !== 'string')) {
    throw optionTypeError(NAME, 'input', 'an iterable or async iterable', input);
  }
  const asyncFactory = (input as Partial<AsyncIterable<T>>)[Symbol.asyncIterator];
  const syncFactory = (input as Partial<Iterable<T>>)[Symbol.iterator];
  if (typeof asyncFactory === 'function') {
    const open = isWebStream<T>(input) ? () => readerIterator(input) : () => asyncFactory.call(input);
    const destroy = nodeStreamDestroyer(input);
    return demandSource<T>(NAME, (sink) => opened(open, sink, (iterator) => pullAsync(iterator, sink, destroy)));
  }
  if (Array.isArray(input)) {
    const array = input as readonly T[];
    return demandSource<T>(NAME, (sink) => pullArray(array, sink));
  }
  if (typeof syncFactory === 'function') {
    const open = (): Iterator<T> => syncFactory.call(input);
    return demandSource<T>(NAME, (sink) => opened(open, sink, (iterator) => pullSync(iterator, sink)));
  }
  throw optionTypeError(NAME, 'input', 'an iterable or async iterable', input);
}

/**
 * A throwing `[Symbol.iterator]()` is an error of this subscription, not of the caller of
 * subscribe: a demand-aware consumer would otherwise be left holding a handle with no producer.
 */
function opened<I>(open: () => I, sink: ProducerSink<unknown>, start: (iterator: I) => Producer): Producer {
  let iterator: I;
  try {
    iterator = open();
  } catch (err) {
    sink.error(err);
    return { pump: noop, teardown: noop };
  }
  return start(iterator);
}

function pullSync<T>(iterator: Iterator<T>, sink: ProducerSink<T>): Producer {
  let finished = false;

  function pump(): void {
    while (sink.demand > 0 && !finished) {
      let done: boolean;
      let value: T;
      try {
        const result = iterator.next();
        done = resultDone(result);
        value = result.value as T;
      } catch (err) {
        finished = true;
        sink.error(err);
        return;
      }
      if (done) {
        finished = true;
        sink.complete();
        return;
      }
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

  return { pump, teardown };
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
  if (typeof result !== 'object' || result === null) {
    throw new TypeError(`${NAME}: the iterator's next() returned ${String(result)}, not an iterator result object`);
  }
  return result.done === true;
}

function isWebStream<T>(input: object | string): input is ReadableStream<T> {
  return typeof (input as Partial<ReadableStream<T>>).getReader === 'function';
}

/**
 * Reads a web ReadableStream through its own reader rather than its async iterator: the
 * iterator's return() also waits behind a pending read, while `reader.cancel()` ends that read
 * at once and cancels the underlying source.
 */
function readerIterator<T>(stream: ReadableStream<T>): AsyncIterator<T> {
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
function pullArray<T>(array: readonly T[], sink: ProducerSink<T>): Producer {
  let index = 0;
  return {
    pump() {
      while (sink.demand > 0 && index < array.length) sink.next(array[index++] as T);
      if (index >= array.length && !sink.closed) sink.complete();
    },
    teardown() {
      index = array.length;
    },
  };
}
