import { isObservable, type Observable } from 'rxjs';
import { optionTypeError } from '../lib/core/errors.js';
import type { Monitor } from '../lib/core/monitor.js';
import { demandProtocolOf, type Cancellation, type DemandProtocol } from '../lib/core/protocol.js';
import { optionalMonitor, optionalPositiveInteger } from '../lib/core/validate.js';
import { pausableOf } from '../lib/queue/absorb.js';
import type { BufferStats, DropEvent } from '../lib/queue/bounded-queue.js';

/*
 * What the adapters to and from the stream ecosystem share (toReadableStream, toNodeReadable,
 * writeTo, writeToStream): each pulls its source one value at a time through the handshake, and
 * a source that cannot be paused is first absorbed by a bounded queue, as toAsyncIterable does.
 * Internal: not exported from index.ts.
 */

/** For a push source only: the bounded queue that absorbs it (the source is pulled otherwise). */
export interface PushBufferOptions<T> {
  /** How many values may wait (default 256). A demand-aware source needs no buffer. */
  capacity?: number;
  /** What a full buffer does (default `'error'`; `'block'` is refused, a push source cannot wait). */
  overflow?: 'drop-newest' | 'drop-oldest' | 'error';
  /** Called with each dropped value. */
  onDrop?: (value: T, event: DropEvent) => void;
  /** The buffer's counters (see bufferMonitor()). */
  monitor?: Monitor<BufferStats>;
}

/** The option keys of {@link PushBufferOptions}, for `optionsObject`. */
export const PUSH_BUFFER_KEYS = ['capacity', 'overflow', 'onDrop', 'monitor'] as const;

const POLICIES: readonly unknown[] = ['drop-newest', 'drop-oldest', 'error'];

/**
 * The handshake to pull `source` through: its own, or that of a bounded queue around it. Values
 * received before an error are still delivered before it (`delayError`), since a stream's reader
 * can take them.
 */
export function pullProtocol<T>(name: string, source: unknown, opts: Partial<PushBufferOptions<T>>): DemandProtocol<T> {
  if (!isObservable(source)) throw optionTypeError(name, 'source', 'an Observable', source);
  const capacity = optionalPositiveInteger(name, 'capacity', opts.capacity, 256);
  const overflow = opts.overflow ?? 'error';
  if (!POLICIES.includes(overflow)) {
    throw optionTypeError(name, 'overflow', "'drop-newest', 'drop-oldest' or 'error'", overflow);
  }
  if (opts.onDrop !== undefined && typeof opts.onDrop !== 'function') {
    throw optionTypeError(name, 'onDrop', 'a function', opts.onDrop);
  }
  const monitor = optionalMonitor<BufferStats>(name, opts.monitor, 'bufferMonitor');
  const pullable = pausableOf(source as Observable<T>, {
    name,
    capacity,
    overflow,
    onDrop: opts.onDrop,
    monitor,
    delayError: true,
  });
  const protocol = demandProtocolOf(pullable);
  if (protocol === undefined) throw new Error(`${name}: internal error, no handshake`);
  return protocol;
}

/**
 * A cancellation made by a stream (a ReadableStream's `cancel(reason)`, a Readable's
 * `destroy(err)`): `'unsubscribed'`, and the stream's reason as `cause`, which stages that report
 * a cause pass to their workers' CancelledError.
 */
export interface StreamCancellation extends Cancellation {
  readonly cause?: unknown;
}

export function streamCancellation(cause: unknown): StreamCancellation {
  return cause === undefined ? { reason: 'unsubscribed' } : { reason: 'unsubscribed', cause };
}
