import { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import type { DemandHandle } from '../lib/core/protocol.js';
import { optionalPositiveInteger, optionsObject } from '../lib/core/validate.js';
import { PUSH_BUFFER_KEYS, pullProtocol, streamCancellation, type PushBufferOptions } from './pull-adapter.js';

const NAME = 'toNodeReadable';

/** The options of {@link toNodeReadable}; all optional. */
export interface ToNodeReadableOptions<T> extends PushBufferOptions<T> {
  /** How many values the Readable may buffer before `_read` stops asking (default 16, Node's object-mode default). */
  highWaterMark?: number;
}

/**
 * A Node `Readable` in object mode whose `_read()` requests the source's values, so a consumer
 * that stops reading (a paused pipe, a slow `Writable` downstream of `pipeline`) stops the source.
 *
 * Imported from `rxjs-backpressure/node`. The subscription starts at the first `_read()` (the
 * first `read()`, `pipe`, `'data'` listener or `for await`). Each `_read()` requests one value
 * and `push`es it when it arrives; Node calls `_read()` again while its buffer holds fewer than
 * `highWaterMark` values, so a demand-aware source runs at most `highWaterMark` values ahead of
 * the reader (plus the one being requested). Completion pushes the end of the stream; an error
 * destroys the Readable with it; `destroy(err)` unsubscribes, passing `err` upstream as the
 * cancellation's cause.
 *
 * ## Warnings
 * `null` cannot travel through a Readable (it means the end): a `null` value destroys the stream
 * with a TypeError. A source error destroys the Readable, and Node discards what a destroyed
 * Readable still buffers (up to `highWaterMark` values, as with `Readable.from`): where every
 * value must be read, read with {@link toAsyncIterable}, which throws only after them. A push source cannot be paused: it is absorbed by a bounded queue
 * (`capacity`, `overflow`, default 256 and `'error'`).
 *
 * ## Example
 * ```ts
 * import { pipeline } from 'node:stream/promises';
 * import { toNodeReadable } from 'rxjs-backpressure/node';
 * await pipeline(toNodeReadable(rows$.pipe(map(toCsvLine))), createWriteStream('out.csv'));
 * ```
 *
 * @see {@link writeTo}, {@link toReadableStream}, {@link fromPull}
 * @param source Any Observable.
 * @param options The Readable's high-water mark, buffering for push sources.
 * @return A Readable in object mode of the source's values.
 */
export function toNodeReadable<T>(source: Observable<T>, options?: ToNodeReadableOptions<T>): Readable {
  const opts = optionsObject<ToNodeReadableOptions<T>>(NAME, options, false, [...PUSH_BUFFER_KEYS, 'highWaterMark']);
  const highWaterMark = optionalPositiveInteger(NAME, 'highWaterMark', opts.highWaterMark, 16);
  const protocol = pullProtocol<T>(NAME, source, opts);
  let handle: DemandHandle | undefined;
  let subscribed = false;
  let ended = false;
  let requested = false; // one request at a time: _read is called again after each push

  function end(): void {
    ended = true;
    handle = undefined;
  }

  function onValue(value: T): void {
    requested = false;
    if (value === null) {
      readable.destroy(new TypeError(`${NAME}: the source emitted null, which a Readable takes as its end`));
      return;
    }
    readable.push(value);
  }

  function subscribe(): void {
    subscribed = true;
    protocol.subscribe({
      start: (h) => (handle = h),
      next: onValue,
      error(err) {
        end();
        readable.destroy(err instanceof Error ? err : new Error(String(err), { cause: err }));
      },
      complete() {
        end();
        readable.push(null);
      },
    });
  }

  const readable = new Readable({
    objectMode: true,
    highWaterMark,
    read() {
      if (!subscribed) subscribe();
      if (ended || requested) return;
      requested = true;
      handle?.request(1);
    },
    destroy(err, callback) {
      const h = ended ? undefined : handle;
      end();
      h?.cancel(streamCancellation(err ?? undefined));
      callback(err);
    },
  });
  return readable;
}
