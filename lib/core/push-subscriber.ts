import { Subscription, type Observable, type Observer } from 'rxjs';
import { reportUnhandled } from './errors.js';

const LIVE = 0;
const COMPLETED = 1;
const FAILED = 2;

/**
 * The subscriber a stage hands a push source (or an inner) itself: a `Subscription` that is also
 * an `Observer`, which RxJS's `subscribe()` takes as the subscriber as it is, so a value goes from
 * the source straight to `target.next`.
 *
 * Passing a plain observer instead makes RxJS wrap it in two objects (a subscriber and the
 * observer around the callbacks), and every value then goes through three more calls. This is the
 * same object, from the source's side: it is in hand before the source starts, so `unsubscribe()`
 * stops a synchronous burst in the middle; a terminal signal reaches the target only after the
 * source's own teardown has run, as a native operator's finalizers run upstream first; a throw
 * from `target.next` is reported as RxJS reports one from an observer, and the values go on.
 * After `cancel()`, nothing more reaches the target.
 */
export class PushSubscriber<T> extends Subscription implements Observer<T> {
  private target: Observer<T> | undefined;
  /** No more signals are taken: a terminal signal came, or the subscription was unsubscribed. */
  private stopped = false;
  /** The terminal signal that came and waits to be passed on (LIVE: none). */
  private end = LIVE;
  private failure: unknown = undefined;
  /** Inside `subscribeTo`: a terminal signal waits until the source's teardown is registered and run. */
  private entering = false;

  constructor(target: Observer<T>) {
    super();
    this.target = target;
  }

  /** Subscribes to `source`; a terminal signal it sent during the call is passed on afterwards. */
  subscribeTo(source: Observable<T>): void {
    this.entering = true;
    try {
      source.subscribe(this);
    } catch (err) {
      // Only under RxJS's deprecated synchronous error handling does subscribe() throw.
      this.error(err);
    } finally {
      this.entering = false;
    }
    if (this.end !== LIVE) this.deliver();
  }

  next(value: T): void {
    if (this.stopped) return;
    try {
      this.target!.next(value);
    } catch (err) {
      reportUnhandled(err);
    }
  }

  error(err: unknown): void {
    if (this.stopped) return;
    this.failure = err;
    this.stop(FAILED);
  }

  complete(): void {
    if (this.stopped) return;
    this.stop(COMPLETED);
  }

  /**
   * Nothing more is taken. A terminal signal that already came is still passed on: a source's own
   * teardown often unsubscribes the subscriber it was given, as RxJS lets it.
   */
  override unsubscribe(): void {
    this.stopped = true;
    if (this.end === LIVE) this.target = undefined;
    super.unsubscribe();
  }

  /** The stage lets go of the source: nothing more reaches the target, not even a terminal signal that came. */
  cancel(): void {
    this.target = undefined;
    this.failure = undefined;
    this.unsubscribe();
  }

  private stop(end: number): void {
    this.stopped = true;
    this.end = end;
    // The source's teardown first; a synchronous source's is registered only once its subscribe
    // function has returned, so inside `subscribeTo` the signal waits for that.
    try {
      super.unsubscribe();
    } finally {
      // A finalizer that threw (RxJS throws an UnsubscriptionError) still ends the source here.
      if (!this.entering) this.deliver();
    }
  }

  private deliver(): void {
    const target = this.target;
    const end = this.end;
    const failure = this.failure;
    this.target = undefined;
    this.end = LIVE;
    this.failure = undefined;
    if (target === undefined) return; // cancelled during the teardown
    if (end === FAILED) target.error(failure);
    else target.complete();
  }
}
