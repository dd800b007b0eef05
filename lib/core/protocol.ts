import { Observable } from 'rxjs';
import { ProtocolError, type CancelReason } from './errors.js';

/**
 * The demand handshake between adjacent library stages (docs/design.md, "The demand handshake").
 *
 * A pausable Observable is an ordinary `Observable<T>` that also carries, under a registered
 * symbol, a {@link DemandProtocol}. A library consumer that finds it subscribes through it and
 * gets a {@link DemandHandle} with an additive `request(n)`. Everyone else subscribes as usual and
 * gets unbounded demand.
 *
 * The key is `Symbol.for(...)` so that the ESM and CJS builds of this package, or two installed
 * copies, find each other; the protocol object carries a version so that copies that cannot talk
 * refuse each other loudly instead of misbehaving.
 */
export const DEMAND: unique symbol = Symbol.for('rxjs-backpressure.demand') as never;

/** The protocol version this copy of the library speaks. */
export const PROTOCOL_VERSION = 1;

/**
 * What a fused source's `poll()` returns when it has no value to give: it has completed or failed,
 * and said so to its observer during the call. `Symbol.for`, so builds and copies agree on it.
 */
export const END: unique symbol = Symbol.for('rxjs-backpressure.end') as never;

/** What a producer signals to a pulling consumer. */
export interface DemandObserver<T> {
  /**
   * Receives the handle before any other signal (Reactive Streams' onSubscribe), so a consumer
   * can request, or cancel, from inside a synchronous burst delivered during `subscribe()`.
   */
  start?(handle: DemandHandle): void;
  /** One value; never more than were requested. */
  next(value: T): void;
  /** The terminal error; delivered whatever the outstanding demand. */
  error(err: unknown): void;
  /** The end of the stream; delivered whatever the outstanding demand. */
  complete(): void;
}

/** The consumer's side of a demand subscription. */
export interface DemandHandle {
  /**
   * Asks for `n` more values (additive). `Infinity` means unbounded. `n <= 0`, NaN or a
   * non-number cancels the subscription and signals a {@link ProtocolError} downstream
   * (Reactive Streams rule 3.9). Safe to call from inside `next`.
   */
  request(n: number): void;
  /**
   * Stops the subscription; idempotent; no signal follows it. A library stage passes the
   * cancellation on upstream, so work aborted anywhere in a segment carries the same reason.
   */
  cancel(cancellation?: Cancellation): void;
  /**
   * Asks for synchronous fusion, from `start`: a source that makes a value on the spot (fromPull
   * over an array or a sync iterable) then lets the consumer take values with `poll()` instead
   * of requesting them; any other source takes this as `request(fallback)`. Once fused, the
   * consumer polls and never requests. A stage that pulls one value per freed slot saves a whole
   * request round trip per value this way (RxJava calls it sync fusion).
   */
  fuse?(fallback: number): void;
  /** After `subscribe()` returned: whether `fuse` was granted, so the consumer polls. */
  isFused?(): boolean;
  /**
   * Once fused: the next value, or {@link END} once the source has completed or failed, which it
   * signals to the observer (complete or error) during this call, as it would after a request.
   */
  poll?(): unknown;
}

/** Why a subscription is cancelled, passed upstream from stage to stage. */
export interface Cancellation {
  /** Why: `'unsubscribed'`, `'sibling-failed'`, `'source-failed'` or `'deadline'`. */
  readonly reason: CancelReason;
  /**
   * The error that caused it, if any (an AbortSignal's reason, a stream's cancel reason): pools
   * pass it on as the `cause` of the CancelledError their workers' signals abort with.
   */
  readonly cause?: unknown;
}

/** The object a pausable Observable carries under {@link DEMAND}. */
export interface DemandProtocol<T> {
  /** {@link PROTOCOL_VERSION} of the copy that made it; stages of another version refuse it. */
  readonly version: number;
  /**
   * Subscribes: calls `observer.start(handle)` first, then starts the producer, which emits
   * only against requests (made in `start` or later).
   */
  subscribe(observer: DemandObserver<T>): DemandHandle;
}

/** An Observable that a library consumer can pull from. */
export type DemandObservable<T> = Observable<T> & { readonly [DEMAND]: DemandProtocol<T> };

/**
 * The handshake of `source`, or undefined when it is a plain (push) Observable.
 * Throws a {@link ProtocolError} when it was made by a copy of the library whose protocol
 * version this one cannot speak.
 */
export function demandProtocolOf<T>(source: Observable<T>): DemandProtocol<T> | undefined {
  const protocol = (source as Partial<DemandObservable<T>>)[DEMAND];
  if (protocol === undefined) return undefined;
  if (typeof protocol !== 'object' || protocol === null || protocol.version !== PROTOCOL_VERSION) {
    const version = typeof protocol === 'object' && protocol !== null ? String(protocol.version) : 'unknown';
    throw new ProtocolError(
      `rxjs-backpressure: the source speaks demand protocol version ${version}, this copy speaks ` +
        `${PROTOCOL_VERSION}; install a single version of rxjs-backpressure (npm ls rxjs-backpressure)`,
    );
  }
  return protocol;
}

/**
 * True when `source` carries the demand handshake (any version): a library stage downstream of it
 * pauses it instead of buffering it.
 *
 * @param source Any Observable.
 * @return Whether it is pausable (and typed as such).
 */
export function isDemandAware<T>(source: Observable<T>): source is DemandObservable<T> {
  if (typeof source !== 'object' || source === null) return false;
  return (source as Partial<DemandObservable<T>>)[DEMAND] !== undefined;
}

/**
 * Wraps a protocol into an Observable that carries it. Plain subscribers get unbounded demand:
 * the stage then behaves like ordinary RxJS.
 */
export function toDemandObservable<T>(protocol: DemandProtocol<T>): DemandObservable<T> {
  const observable = new Observable<T>((subscriber) => {
    protocol.subscribe({
      start(handle) {
        // Registered before any value flows, so a synchronous take(n) downstream stops the
        // producer in the middle of a burst delivered during subscribe().
        subscriber.add(() => handle.cancel());
        handle.request(Infinity);
      },
      next(value) {
        subscriber.next(value);
      },
      error(err) {
        subscriber.error(err);
      },
      complete() {
        subscriber.complete();
      },
    });
  });
  Object.defineProperty(observable, DEMAND, { value: protocol, enumerable: false });
  return observable as DemandObservable<T>;
}
