import type { Observable } from 'rxjs';
import { optionRangeError, optionTypeError } from '../lib/core/errors.js';
import type { DemandHandle, DemandProtocol } from '../lib/core/protocol.js';
import { optionsObject } from '../lib/core/validate.js';
import { PUSH_BUFFER_KEYS, pullProtocol, streamCancellation, type PushBufferOptions } from './pull-adapter.js';

const NAME = 'toReadableStream';

/** The options of {@link toReadableStream}; all optional. */
export interface ToReadableStreamOptions<T> extends PushBufferOptions<T> {
  /**
   * How many values the stream may hold before its reader asks (the stream's own queue;
   * default 1, the web default). 0 asks the source only while a read is pending.
   */
  highWaterMark?: number;
}

/**
 * A web `ReadableStream` of the source's values, which asks the source for a value only when the
 * stream's `pull()` wants one.
 *
 * The subscription starts at the first `pull()` (when the stream is read, or right away to fill
 * its queue of `highWaterMark` values). Each `pull()` requests one value and settles when it has
 * arrived, so a demand-aware source (fromPull, channel, boundedBuffer, mergeWorkers, ...) runs at
 * most `highWaterMark` values ahead of the reader. The source's completion closes the stream, its
 * error errors it; `cancel(reason)` (also from `reader.cancel()` or a failed `pipeTo`)
 * unsubscribes, passing `reason` upstream as the cancellation's cause.
 *
 * ## Warnings
 * A push source cannot be paused: it is absorbed by a bounded queue (`capacity`, `overflow`,
 * default 256 and `'error'`), whose drops are counted in `monitor`.
 *
 * ## Example
 * ```ts
 * // A streamed HTTP response (Response accepts a ReadableStream of bytes):
 * const body = toReadableStream(fromPull(rows()).pipe(mergeWorkers(render, { concurrency: 4 })));
 * return new Response(body.pipeThrough(new TextEncoderStream()));
 * ```
 *
 * @see {@link toAsyncIterable}, {@link writeToStream}, {@link fromPull}
 * @param source Any Observable.
 * @param options The stream's high-water mark, buffering for push sources.
 * @return A ReadableStream of the source's values.
 */
export function toReadableStream<T>(source: Observable<T>, options?: ToReadableStreamOptions<T>): ReadableStream<T> {
  const opts = optionsObject<ToReadableStreamOptions<T>>(NAME, options, false, [...PUSH_BUFFER_KEYS, 'highWaterMark']);
  const highWaterMark = streamHighWaterMark(opts.highWaterMark);
  const protocol = pullProtocol<T>(NAME, source, opts);
  return new ReadableStream<T>(pullingSource(protocol), { highWaterMark });
}

function streamHighWaterMark(value: unknown): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number') throw optionTypeError(NAME, 'highWaterMark', 'an integer >= 0', value);
  if (!Number.isInteger(value) || value < 0) throw optionRangeError(NAME, 'highWaterMark', 'an integer >= 0', value);
  return value;
}

function pullingSource<T>(protocol: DemandProtocol<T>): UnderlyingDefaultSource<T> {
  let controller: ReadableStreamDefaultController<T> | undefined;
  let handle: DemandHandle | undefined;
  let ended = false;
  // The pending pull() settles when its value (or the end) has arrived: the stream calls pull()
  // again only then, so exactly one value is requested at a time.
  let settlePull: (() => void) | undefined;

  function settle(): void {
    const s = settlePull;
    settlePull = undefined;
    s?.();
  }

  function end(signal: (c: ReadableStreamDefaultController<T>) => void): void {
    if (ended) return;
    ended = true;
    handle = undefined;
    if (controller !== undefined) signal(controller);
    settle();
  }

  function subscribe(): void {
    protocol.subscribe({
      start: (h) => (handle = h),
      next(value) {
        controller?.enqueue(value);
        settle();
      },
      error: (err: unknown) => end((c) => c.error(err)),
      complete: () => end((c) => c.close()),
    });
  }

  return {
    start(c) {
      controller = c;
    },
    pull() {
      if (ended) return;
      return new Promise<void>((resolve) => {
        settlePull = resolve;
        if (handle === undefined) {
          try {
            subscribe();
          } catch (err) {
            // A source that throws while subscribing errors the stream, not the reader's caller.
            end((c) => c.error(err));
            return;
          }
        }
        // The subscription may have ended (or a synchronous source delivered) inside subscribe().
        if (!ended) handle?.request(1);
      });
    },
    cancel(reason) {
      if (ended) return;
      ended = true;
      const h = handle;
      handle = undefined;
      h?.cancel(streamCancellation(reason));
      settle();
    },
  };
}
