import type { Writable } from 'node:stream';
import { Observable, type OperatorFunction } from 'rxjs';
import { optionTypeError } from '../lib/core/errors.js';
import type { DemandHandle, DemandProtocol } from '../lib/core/protocol.js';
import { optionalBoolean, optionsObject } from '../lib/core/validate.js';
import { PUSH_BUFFER_KEYS, pullProtocol, type PushBufferOptions } from './pull-adapter.js';

const NAME = 'writeTo';

/** The options of {@link writeTo}; all optional. */
export interface WriteToOptions<T> extends PushBufferOptions<T> {
  /**
   * End the Writable when the source completes, and destroy it with the error when the source
   * fails (default `true`, as `pipeline` does). With `false` it is left open for more writes.
   */
  end?: boolean;
}

/**
 * A sink into a Node `Writable`: writes each value and requests the next one only when the write
 * was accepted, `write()` returning `true` or, after `false`, the `'drain'` event.
 *
 * Imported from `rxjs-backpressure/node`. A demand-aware source therefore runs at most the
 * Writable's `highWaterMark` values (bytes, for a byte stream) ahead of what it has written.
 * When the source completes the Writable is ended, and the returned Observable completes on
 * `'finish'` (everything was flushed). An `'error'` of the Writable, or a `'close'` before the
 * end, fails the pipeline with that error and unsubscribes the source. Unsubscribing stops the
 * writes and removes the listeners; the Writable stays open.
 *
 * ## Warnings
 * A push source cannot be paused: it is absorbed by a bounded queue (`capacity`, `overflow`,
 * default 256 and `'error'`).
 *
 * ## Example
 * ```ts
 * import { writeTo } from 'rxjs-backpressure/node';
 * fromPull(rows()).pipe(mergeWorkers(toCsvLine, { concurrency: 4 }), writeTo(createWriteStream('out.csv'))).subscribe();
 * ```
 *
 * @see {@link toNodeReadable}, {@link writeToStream}
 * @param writable The Writable to write to.
 * @param options Whether to end the Writable at the end, buffering for push sources.
 * @return A function that returns an Observable that completes when everything was written.
 */
export function writeTo<T>(writable: Writable, options?: WriteToOptions<T>): OperatorFunction<T, never> {
  if (!isWritable(writable)) throw optionTypeError(NAME, 'writable', 'a Node Writable', writable);
  const opts = optionsObject<WriteToOptions<T>>(NAME, options, false, [...PUSH_BUFFER_KEYS, 'end']);
  const end = opts.end === undefined ? true : optionalBoolean(NAME, 'end', opts.end);
  return (source) => {
    const protocol = pullProtocol<T>(NAME, source, opts);
    return new Observable<never>((subscriber) => writeAll(protocol, writable, end, subscriber));
  };
}

function isWritable(value: unknown): value is Writable {
  if (typeof value !== 'object' || value === null) return false;
  const w = value as Partial<Writable>;
  return typeof w.write === 'function' && typeof w.end === 'function' && typeof w.once === 'function';
}

function ignore(): void {}

interface Outlet {
  error(err: unknown): void;
  complete(): void;
}

function writeAll<T>(protocol: DemandProtocol<T>, writable: Writable, end: boolean, out: Outlet): () => void {
  let handle: DemandHandle | undefined;
  let done = false;

  function requestNext(): void {
    if (!done) handle?.request(1);
  }

  function onError(err: unknown): void {
    if (done) return;
    finish();
    out.error(err);
  }

  function onClose(): void {
    onError(new Error(`${NAME}: the Writable closed before the source completed`));
  }

  function onFinish(): void {
    if (done) return;
    finish();
    out.complete();
  }

  /** The one way out: the source is released and every listener removed, exactly once. */
  function finish(): void {
    done = true;
    const h = handle;
    handle = undefined;
    h?.cancel();
    writable.off('error', onError);
    writable.off('close', onClose);
    writable.off('drain', requestNext);
    writable.off('finish', onFinish);
  }

  function onValue(value: T): void {
    if (writable.write(value)) requestNext();
    else writable.once('drain', requestNext);
  }

  function onSourceError(err: unknown): void {
    if (done) return;
    handle = undefined;
    finish();
    if (end) {
      // The error is delivered downstream here; its echo on the Writable must not go unhandled.
      writable.once('error', ignore);
      writable.destroy(err instanceof Error ? err : new Error(String(err), { cause: err }));
    }
    out.error(err);
  }

  function onSourceComplete(): void {
    if (done) return;
    handle = undefined;
    if (!end) {
      finish();
      out.complete();
      return;
    }
    writable.once('finish', onFinish);
    writable.end();
  }

  if (writable.destroyed || writable.writableEnded) {
    out.error(new Error(`${NAME}: the Writable is already ${writable.destroyed ? 'destroyed' : 'ended'}`));
    return () => undefined;
  }
  writable.on('error', onError);
  writable.on('close', onClose);
  protocol.subscribe({ start: (h) => (handle = h), next: onValue, error: onSourceError, complete: onSourceComplete });
  requestNext();
  return () => {
    if (!done) finish();
  };
}
