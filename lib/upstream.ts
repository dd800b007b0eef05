import { Subject, takeUntil, type Observable } from 'rxjs';
import { demandProtocolOf, type DemandHandle, type DemandObserver } from './protocol.js';

/** How a library stage is connected to its source. */
export interface Upstream extends DemandHandle {
  /** True when the source speaks the handshake, so `request` really pauses it. */
  readonly pausable: boolean;
}

/**
 * Subscribes a library stage to its source: through the handshake when the source has one,
 * otherwise as an ordinary push subscription whose `request` is a no-op (the stage must then
 * absorb the source in its own bounded queue). Never asks for anything by itself.
 */
export function connectUpstream<T>(source: Observable<T>, observer: DemandObserver<T>): Upstream {
  const protocol = demandProtocolOf(source);
  if (protocol !== undefined) {
    const handle = protocol.subscribe(observer);
    return { pausable: true, request: (n) => handle.request(n), cancel: () => handle.cancel() };
  }
  return connectPush(source, observer);
}

function connectPush<T>(source: Observable<T>, observer: DemandObserver<T>): Upstream {
  // A synchronous source delivers everything inside subscribe(), before we hold its
  // Subscription. The stop notifier lets cancel() close it mid-burst (an overflow error or a
  // downstream take(n) must stop an endless synchronous source, not wait for it to end).
  const stop = new Subject<void>();
  let cancelled = false;
  const subscription = source.pipe(takeUntil(stop)).subscribe({
    next: (value) => {
      if (!cancelled) observer.next(value);
    },
    error: (err: unknown) => {
      if (!cancelled) observer.error(err);
    },
    complete: () => {
      if (!cancelled) observer.complete();
    },
  });
  return {
    pausable: false,
    request: () => undefined,
    cancel: () => {
      if (cancelled) return;
      cancelled = true;
      stop.next();
      stop.complete();
      subscription.unsubscribe();
    },
  };
}
