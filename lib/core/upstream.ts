import { Observable, type Subscription } from 'rxjs';
import { demandProtocolOf, type Cancellation, type DemandHandle, type DemandObserver } from './protocol.js';

/** How a library stage is connected to its source. */
export interface Upstream<T> extends DemandHandle {
  /** True when the source speaks the handshake, so `request` really pauses it. */
  readonly pausable: boolean;
  /**
   * Subscribes. A push source may deliver values (and the stage may cancel) before this
   * returns, which is why the handle exists first. `initialRequest` is asked of a pausable
   * source before it starts, so a synchronous one can deliver it during the subscription.
   */
  connect(observer: DemandObserver<T>, initialRequest?: number): void;
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
    return {
      pausable: true,
      connect(observer, initialRequest) {
        if (cancelled) return;
        protocol.subscribe({
          start(h) {
            handle = h;
            const first = early + (initialRequest ?? 0);
            early = 0;
            if (first > 0) h.request(first);
          },
          // Bound, not wrapped: one call less per value on the path every library stage shares.
          next: observer.next.bind(observer),
          error: observer.error.bind(observer),
          complete: observer.complete.bind(observer),
        });
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
  }
  // A synchronous source delivers everything inside subscribe(), before we hold its
  // Subscription. Subscribing through a wrapper puts its subscriber in hand first, so cancel()
  // can close it mid-burst (an overflow error or a downstream take(n) must stop an endless
  // synchronous source, not wait for it to end), at no cost per value.
  let subscriber: Subscription | undefined;
  return {
    pausable: false,
    connect(observer) {
      if (cancelled) return;
      // A terminal signal is passed on after the source's own teardown, so finalizers run
      // upstream first, as they do through native operators.
      let terminal: { error: boolean; err?: unknown } | undefined;
      const settle = (): void => {
        if (cancelled || terminal === undefined) return;
        if (terminal.error) observer.error(terminal.err);
        else observer.complete();
      };
      new Observable<T>((inner) => {
        subscriber = inner;
        inner.add(source.subscribe(inner));
        inner.add(settle);
      }).subscribe({
        // Bound, not wrapped: after cancel() the subscriber is stopped, so it delivers nothing more.
        next: observer.next.bind(observer),
        error: (err: unknown) => (terminal = { error: true, err }),
        complete: () => (terminal = { error: false }),
      });
    },
    request: () => undefined,
    cancel() {
      if (cancelled) return;
      cancelled = true;
      const inner = subscriber;
      subscriber = undefined;
      inner?.unsubscribe();
    },
  };
}
