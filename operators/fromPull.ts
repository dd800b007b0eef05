import { config } from 'rxjs';
import { demandSource, type Producer, type ProducerSink } from '../lib/producer.js';
import type { DemandObservable } from '../lib/protocol.js';
import { optionTypeError } from '../lib/errors.js';

const NAME = 'fromPull';

/**
 * A demand-aware source over an iterable or async iterable: it takes the next value only when
 * downstream has asked for one.
 *
 * Each subscription asks the input for a fresh iterator and calls `next()` once per unit of
 * demand; an async iterator is asked for one value at a time. Unsubscribing before the end calls
 * the iterator's `return()`, so a generator's `finally` runs and a Node `Readable` or a web
 * `ReadableStream` (both async iterable) is destroyed or cancelled. An error thrown by the
 * iterator becomes the stream's error. With an ordinary subscriber (unbounded demand) it behaves
 * like RxJS's `from`.
 *
 * Failure modes guarded against: an unbounded queue in front of a slow consumer (PP-04): the
 * reader is paused instead; a cancelled pipeline leaving a live producer (ML-10).
 *
 * ## Example
 * ```ts
 * const lines = fromPull(readline.createInterface({ input: createReadStream(path) }));
 * lines.pipe(mergeWorkers(parseAndStore, { concurrency: 4 })).subscribe();
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
    return demandSource<T>(NAME, (sink) => pullAsync(asyncFactory.call(input), sink));
  }
  if (typeof syncFactory === 'function') {
    return demandSource<T>(NAME, (sink) => pullSync(syncFactory.call(input), sink));
  }
  throw optionTypeError(NAME, 'input', 'an iterable or async iterable', input);
}

function pullSync<T>(iterator: Iterator<T>, sink: ProducerSink<T>): Producer {
  let finished = false;

  function pump(): void {
    while (sink.demand > 0 && !finished) {
      let result: IteratorResult<T>;
      try {
        result = iterator.next();
      } catch (err) {
        finished = true;
        sink.error(err);
        return;
      }
      if (result.done === true) {
        finished = true;
        sink.complete();
        return;
      }
      sink.next(result.value);
    }
  }

  function teardown(): void {
    if (finished) return;
    finished = true;
    try {
      iterator.return?.();
    } catch (err) {
      reportLate(err);
    }
  }

  return { pump, teardown };
}

function pullAsync<T>(iterator: AsyncIterator<T>, sink: ProducerSink<T>): Producer {
  let finished = false;
  let pulling = false;

  function onResult(result: IteratorResult<T>): void {
    pulling = false;
    if (finished) return;
    if (result.done === true) {
      finished = true;
      sink.complete();
      return;
    }
    sink.next(result.value);
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
    pending.then(onResult, onError);
  }

  function teardown(): void {
    if (finished) return;
    finished = true;
    try {
      const returned = iterator.return?.();
      if (returned !== undefined) Promise.resolve(returned).catch(reportLate);
    } catch (err) {
      reportLate(err);
    }
  }

  return { pump, teardown };
}

/** An error after the subscriber has gone has nowhere to go but RxJS's unhandled-error hook. */
function reportLate(err: unknown): void {
  const hook = config.onUnhandledError;
  if (hook !== null) hook(err);
}
