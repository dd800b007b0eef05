import { Observable, type OperatorFunction } from 'rxjs';
import { optionTypeError } from '../lib/core/errors.js';
import type { DemandHandle, DemandProtocol } from '../lib/core/protocol.js';
import { optionalBoolean, optionsObject } from '../lib/core/validate.js';
import { PUSH_BUFFER_KEYS, pullProtocol, type PushBufferOptions } from './pull-adapter.js';

const NAME = 'writeToStream';

/** The options of {@link writeToStream}; all optional. */
export interface WriteToStreamOptions<T> extends PushBufferOptions<T> {
  /**
   * Close the stream when the source completes and abort it with the error when the source
   * fails (default `true`, as `pipeTo` does). With `false` the stream is only unlocked.
   */
  close?: boolean;
}

/**
 * A sink into a web `WritableStream`: writes each value and requests the next one only once the
 * writer is `ready` again, so the stream's backpressure reaches the source.
 *
 * Subscribing locks the stream (`getWriter()`) and asks the source for one value when the writer
 * is ready; each value is written, and the next is requested when `writer.ready` resolves (the
 * stream's queue is below its high-water mark). A demand-aware source therefore runs at most the
 * stream's `highWaterMark` values ahead of its sink. When the source completes the stream is
 * closed, and the returned Observable completes once the close has finished (every write has
 * been accepted by the sink). A failed write, or a stream that errors, fails the pipeline with
 * the stream's error and unsubscribes the source. Unsubscribing stops the writes and releases
 * the lock, leaving the stream open.
 *
 * ## Warnings
 * A push source cannot be paused: it is absorbed by a bounded queue (`capacity`, `overflow`,
 * default 256 and `'error'`).
 *
 * ## Example
 * ```ts
 * await lastValueFrom(fromPull(rows()).pipe(writeToStream(fileHandle.createWritable())), {
 *   defaultValue: undefined,
 * });
 * ```
 *
 * @see {@link toReadableStream}, {@link toAsyncIterable}
 * @param stream The WritableStream to write to; it must not be locked.
 * @param options Whether to close the stream at the end, buffering for push sources.
 * @return A function that returns an Observable that completes when everything was written.
 */
export function writeToStream<T>(
  stream: WritableStream<T>,
  options?: WriteToStreamOptions<T>,
): OperatorFunction<T, never> {
  if (
    typeof stream !== 'object' ||
    stream === null ||
    typeof (stream as Partial<WritableStream>).getWriter !== 'function'
  ) {
    throw optionTypeError(NAME, 'stream', 'a WritableStream', stream);
  }
  const opts = optionsObject<WriteToStreamOptions<T>>(NAME, options, false, [...PUSH_BUFFER_KEYS, 'close']);
  const close = opts.close === undefined ? true : optionalBoolean(NAME, 'close', opts.close);
  return (source) => {
    const protocol = pullProtocol<T>(NAME, source, opts);
    return new Observable<never>((subscriber) => writeAll(protocol, stream.getWriter(), close, subscriber));
  };
}

interface Outlet {
  error(err: unknown): void;
  complete(): void;
}

function writeAll<T>(
  protocol: DemandProtocol<T>,
  writer: WritableStreamDefaultWriter<T>,
  close: boolean,
  out: Outlet,
): () => void {
  let handle: DemandHandle | undefined;
  let done = false;

  /** The one way out: the source is released and the writer unlocked exactly once. */
  function finish(): void {
    done = true;
    const h = handle;
    handle = undefined;
    h?.cancel();
    writer.releaseLock();
  }

  function failWith(err: unknown): void {
    if (done) return;
    finish();
    out.error(err);
  }

  /** Asks for the next value once the stream's queue has room. */
  function whenReady(): void {
    writer.ready.then(() => {
      if (!done) handle?.request(1);
    }, failWith);
  }

  function onValue(value: T): void {
    // The write's own promise settles when the sink has taken the value; its failure is the
    // stream's error, which `ready` reports too: either one fails the pipeline, once.
    writer.write(value).catch(failWith);
    whenReady();
  }

  function onSourceError(err: unknown): void {
    if (done) return;
    handle = undefined;
    if (close) writer.abort(err).catch(() => undefined);
    finish();
    out.error(err);
  }

  function onSourceComplete(): void {
    if (done) return;
    handle = undefined;
    if (!close) {
      finish();
      out.complete();
      return;
    }
    writer.close().then(() => {
      if (done) return;
      finish();
      out.complete();
    }, failWith);
  }

  protocol.subscribe({
    start: (h) => (handle = h),
    next: onValue,
    error: onSourceError,
    complete: onSourceComplete,
  });
  if (!done) whenReady();
  return () => {
    if (!done) finish();
  };
}
