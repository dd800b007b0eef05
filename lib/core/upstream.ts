import type { Observable } from 'rxjs';
import { PushSubscriber } from './push-subscriber.js';
import {
  END,
  demandProtocolOf,
  type Cancellation,
  type DemandHandle,
  type DemandObserver,
  type DemandProtocol,
} from './protocol.js';

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
  return protocol === undefined ? new PushUpstream<T>(source) : new PausableUpstream<T>(protocol);
}

/**
 * A source that speaks the handshake. A class, not a literal of closures: a pool polls a fused
 * source through it once per value, and a method on one shared prototype inlines where a fresh
 * closure per subscription left a call.
 */
class PausableUpstream<T> implements Upstream<T> {
  readonly pausable = true;
  fused = false;
  private handle: DemandHandle | undefined = undefined;
  /** Requested before connect: passed on at start rather than lost. */
  private early = 0;
  private cancelled = false;

  constructor(private readonly protocol: DemandProtocol<T>) {}

  connect(observer: DemandObserver<T>, initialRequest?: number, fuse = false): void {
    if (this.cancelled) return;
    this.protocol.subscribe({
      start: (h) => {
        this.handle = h;
        const first = this.early + (initialRequest ?? 0);
        this.early = 0;
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
    this.fused = fuse && this.handle?.isFused?.() === true;
  }

  poll(): T | typeof END {
    const handle = this.handle;
    return this.fused && handle !== undefined ? (handle.poll!() as T | typeof END) : END;
  }

  request(n: number): void {
    const handle = this.handle;
    if (handle !== undefined) handle.request(n);
    else if (!this.cancelled) this.early += n;
  }

  cancel(cancellation?: Cancellation): void {
    this.cancelled = true;
    const handle = this.handle;
    this.handle = undefined;
    handle?.cancel(cancellation);
  }
}

/**
 * A plain push source: its `request` is a no-op. A synchronous source delivers everything inside
 * subscribe(), before we would hold its Subscription: the stage's own subscriber is in hand first,
 * so cancel() can stop it mid-burst (an overflow error or a downstream take(n) must stop an
 * endless synchronous source, not wait for it to end), and values reach the stage with no RxJS
 * subscriber between (push-subscriber.ts).
 */
class PushUpstream<T> implements Upstream<T> {
  readonly pausable = false;
  readonly fused = false;
  private subscriber: PushSubscriber<T> | undefined = undefined;
  private cancelled = false;

  constructor(private readonly source: Observable<T>) {}

  connect(observer: DemandObserver<T>): void {
    if (this.cancelled) return;
    const subscriber = new PushSubscriber<T>(observer);
    this.subscriber = subscriber;
    subscriber.subscribeTo(this.source);
  }

  poll(): typeof END {
    return END;
  }

  request(): void {}

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    const inner = this.subscriber;
    this.subscriber = undefined;
    inner?.cancel();
  }
}
