import type { Observable } from 'rxjs';
import { PushSubscriber } from './push-subscriber.js';
import { END, demandProtocolOf, type Cancellation, type DemandHandle, type DemandObserver } from './protocol.js';

/** How a library stage is connected to its source. */
export interface Upstream<T> extends DemandHandle {
  /** True when the source speaks the handshake, so `request` really pauses it. */
  readonly pausable: boolean;
  /**
   * Subscribes. A push source may deliver values (and the stage may cancel) before this
   * returns, which is why the handle exists first. `initialRequest` is asked of a pausable
   * source before it starts, so a synchronous one can deliver it during the subscription.
   */
  connect(observer: DemandObserver<T>, initialRequest?: number, fuse?: boolean): void;
  /**
   * True once `connect(..., true)` found a source that offers synchronous fusion: the stage then
   * takes values with `poll()` and never requests (DemandHandle.fuse).
   */
  fused: boolean;
  /** The next value of a fused source, or END once it has completed or failed (signalled already). */
  poll(): T | typeof END;
}

/**
 * The connection of a library stage to its source: through the handshake when the source has
 * one, otherwise an ordinary push subscription whose `request` is a no-op (the stage must then
 * absorb the source in its own bounded queue). Never asks for anything by itself.
 */
export function upstreamOf<T>(source: Observable<T>): Upstream<T> {
  const protocol = demandProtocolOf(source);
  let cancelled = false;
  if (protocol !== undefined) {
    let handle: DemandHandle | undefined;
    let early = 0; // requested before connect: passed on at start rather than lost
    // A literal with data properties only (a getter would put it in V8's dictionary mode).
    const upstream: Upstream<T> = {
      pausable: true,
      fused: false,
      connect(observer, initialRequest, fuse = false) {
        if (cancelled) return;
        protocol.subscribe({
          start(h) {
            handle = h;
            const first = early + (initialRequest ?? 0);
            early = 0;
            // Fusion is settled when the producer exists; a source that cannot be polled takes
            // it as this same request, made before the producer connects.
            if (fuse && h.fuse !== undefined) h.fuse(first);
            else if (first > 0) h.request(first);
          },
          // Bound, not wrapped: one call less per value on the path every library stage shares.
          next: observer.next.bind(observer),
          error: observer.error.bind(observer),
          complete: observer.complete.bind(observer),
        });
        upstream.fused = fuse && handle?.isFused?.() === true;
      },
      poll() {
        return upstream.fused && handle !== undefined ? (handle.poll!() as T | typeof END) : END;
      },
      request(n) {
        if (handle !== undefined) handle.request(n);
        else if (!cancelled) early += n;
      },
      cancel(cancellation?: Cancellation) {
        cancelled = true;
        handle?.cancel(cancellation);
        handle = undefined;
      },
    };
    return upstream;
  }
  // A synchronous source delivers everything inside subscribe(), before we would hold its
  // Subscription: the stage's own subscriber is in hand first, so cancel() can stop it mid-burst
  // (an overflow error or a downstream take(n) must stop an endless synchronous source, not wait
  // for it to end), and values reach the stage with no RxJS subscriber between (push-subscriber.ts).
  let subscriber: PushSubscriber<T> | undefined;
  return {
    pausable: false,
    fused: false,
    poll: () => END,
    connect(observer) {
      if (cancelled) return;
      subscriber = new PushSubscriber<T>(observer);
      subscriber.subscribeTo(source);
    },
    request: () => undefined,
    cancel() {
      if (cancelled) return;
      cancelled = true;
      const inner = subscriber;
      subscriber = undefined;
      inner?.cancel();
    },
  };
}
