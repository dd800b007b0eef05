import { ProtocolError } from './errors.js';
import {
  END,
  PROTOCOL_VERSION,
  type Cancellation,
  toDemandObservable,
  type DemandHandle,
  type DemandObservable,
  type DemandObserver,
} from './protocol.js';

/**
 * What the kernel gives a producer: the outstanding demand, and the only ways to signal.
 * `next` may be called only while `demand > 0`; the kernel enforces it (Reactive Streams 1.1).
 */
export interface ProducerSink<T> {
  /** Outstanding demand; 0 once the subscription has ended. */
  readonly demand: number;
  /** True once a terminal signal was sent or the consumer cancelled. */
  readonly closed: boolean;
  next(value: T): void;
  error(err: unknown): void;
  complete(): void;
  /** Asks the kernel to run `pump` again (e.g. new data arrived); re-entrancy safe. */
  schedulePump(): void;
}

/** A producer's callbacks. */
export interface Producer<T = never> {
  /** Emits while `sink.demand > 0` and it has something to emit; never loops forever. */
  pump(): void;
  /**
   * Releases everything the producer holds; called exactly once, on terminal or cancel. On a
   * cancel it gets the consumer's cancellation, to pass upstream.
   */
  teardown(cancellation?: Cancellation): void;
  /**
   * Subscribes to whatever feeds the producer. Called right after `start`, once the kernel
   * holds the producer, so a cancel during a synchronous burst inside it tears down at once.
   */
  connect?(): void;
  /**
   * Synchronous fusion (DemandHandle.fuse): the next value, made on the spot, or END after
   * signalling complete or error through the sink. Only for producers that never wait.
   */
  poll?(): T | typeof END;
}

/**
 * The producer kernel: one place that implements the consumer-facing rules of the handshake
 * for every library producer (design notes section 1):
 * - additive `request(n)`, `Infinity` = unbounded, invalid n -> ProtocolError downstream;
 * - a re-entrancy-safe drain loop: `request` or new data during `pump` only marks "again",
 *   so recursion depth stays constant however many values a synchronous source has;
 * - completion and errors are delivered whatever the outstanding demand;
 * - cancel is idempotent, and afterwards nothing is signalled and no reference is kept.
 *
 * `start` runs once per subscription and returns the producer for it.
 */
export function demandSource<T>(operator: string, start: (sink: ProducerSink<T>) => Producer<T>): DemandObservable<T> {
  return toDemandObservable<T>({
    version: PROTOCOL_VERSION,
    subscribe(observer) {
      return subscribeProducer(operator, observer, start);
    },
  });
}

function subscribeProducer<T>(
  operator: string,
  downstream: DemandObserver<T>,
  start: (sink: ProducerSink<T>) => Producer<T>,
): DemandHandle {
  const kernel = new Kernel<T>(operator, downstream);
  const handle = new KernelHandle(kernel);
  downstream.start?.(handle);
  kernel.begin(start);
  return handle;
}

/**
 * One subscription's state, and the sink its producer signals through.
 *
 * A class, not an object literal with getters: V8 keeps a literal with accessors in dictionary
 * mode (`%HasFastProperties` is false), so every `sink.demand` and `sink.next` on the hot path
 * was a hash lookup and a call that could not be inlined. Every stage sees this one class, so the
 * call sites stay monomorphic and the getters inline.
 */
class Kernel<T> implements ProducerSink<T> {
  /** Undefined once the subscription has ended (terminal signal or cancel): nothing more is sent. */
  private observer: DemandObserver<T> | undefined;
  private producer: Producer<T> | undefined = undefined;
  /** The consumer polls (synchronous fusion) instead of requesting. */
  private fused = false;
  /** Asked for fusion before the producer existed: what to request if it cannot be polled. */
  private fusion: number | undefined = undefined;
  private outstanding = 0;
  private pumping = false;
  private again = false;
  private tornDown = false;
  private pendingCancellation: Cancellation | undefined = undefined;

  constructor(
    private readonly operator: string,
    downstream: DemandObserver<T>,
  ) {
    this.observer = downstream;
  }

  get demand(): number {
    return this.outstanding;
  }

  get closed(): boolean {
    return this.observer === undefined;
  }

  next(value: T): void {
    const observer = this.observer;
    if (observer === undefined) return;
    const demand = this.outstanding;
    if (demand <= 0) {
      this.overrun();
      return;
    }
    if (demand !== Infinity) this.outstanding = demand - 1;
    observer.next(value);
  }

  /**
   * A value without demand: a library bug, not a user error; fail loudly rather than overrun the
   * consumer. Out of `next`, whose every byte counts against what V8 inlines into a stage's path.
   */
  private overrun(): void {
    this.finish()?.error(new ProtocolError(`${this.operator}: emitted a value without demand (rule 1.1)`));
  }

  error(err: unknown): void {
    this.finish()?.error(err);
  }

  complete(): void {
    this.finish()?.complete();
  }

  schedulePump(): void {
    if (this.observer !== undefined && this.producer !== undefined) this.runPump();
  }

  /** The consumer's `request(n)`. */
  request(n: number): void {
    if (this.observer === undefined) return;
    if (n !== 1 && !validDemand(n)) {
      this.finish()?.error(invalidDemand(this.operator, n));
      return;
    }
    if (this.fused) {
      this.finish()?.error(new ProtocolError(`${this.operator}: request(n) after fuse() was granted`));
      return;
    }
    this.outstanding += n; // Infinity + n stays Infinity
    if (this.producer !== undefined) this.runPump();
  }

  /** The consumer's `cancel(cancellation)`: idempotent, and nothing is signalled afterwards. */
  cancel(cancellation: Cancellation | undefined): void {
    this.observer = undefined;
    this.outstanding = 0;
    this.pendingCancellation = cancellation;
    this.release(cancellation);
  }

  /** The consumer's `fuse(fallback)`: granted at `begin` if the producer can be polled. */
  fuse(fallback: number): void {
    if (this.observer === undefined) return;
    if (fallback !== 0 && !validDemand(fallback)) {
      this.finish()?.error(invalidDemand(this.operator, fallback));
      return;
    }
    if (this.producer === undefined && !this.tornDown) this.fusion = fallback;
    else if (fallback > 0) this.request(fallback);
  }

  get isFused(): boolean {
    return this.fused;
  }

  /** The consumer's `poll()`, once fused. */
  poll(): T | typeof END {
    const producer = this.producer;
    if (!this.fused || this.observer === undefined || producer === undefined) return END;
    return producer.poll!();
  }

  /** Starts the producer once the consumer holds its handle, then connects it (two phases). */
  begin(start: (sink: ProducerSink<T>) => Producer<T>): void {
    if (this.observer === undefined) return; // cancelled or failed inside start
    try {
      const producer = start(this);
      this.producer = producer;
      this.settleFusion(producer);
      if (this.observer !== undefined) producer.connect?.();
    } catch (err) {
      // Reactive Streams 2.13: a failure while starting is signalled, never thrown at the consumer.
      this.finish()?.error(err);
      return;
    }
    if (this.observer === undefined) {
      // The producer ended, or was cancelled, during start or connect; release it now.
      this.release(this.pendingCancellation);
    } else if (this.outstanding > 0) {
      this.runPump();
    }
  }

  /** Grants the fusion asked for in `start`, or turns it into the request it stood for. */
  private settleFusion(producer: Producer<T>): void {
    const fallback = this.fusion;
    if (fallback === undefined) return;
    this.fusion = undefined;
    if (producer.poll !== undefined && this.outstanding === 0) this.fused = true;
    else this.outstanding += fallback; // pumped after connect, like a request made in start
  }

  /** Ends the subscription; returns the observer to send the terminal signal to, if any. */
  private finish(): DemandObserver<T> | undefined {
    const target = this.observer;
    this.observer = undefined;
    this.outstanding = 0;
    this.release(undefined);
    return target;
  }

  private release(cancellation: Cancellation | undefined): void {
    const producer = this.producer;
    if (this.tornDown || producer === undefined) return;
    this.tornDown = true;
    this.producer = undefined;
    producer.teardown(cancellation);
  }

  /** The re-entrancy-safe drain loop: a pump asked for during a pump only marks "again". */
  private runPump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        const producer = this.producer;
        if (this.observer === undefined || producer === undefined) break;
        producer.pump();
      } while (this.again);
    } finally {
      this.pumping = false;
    }
  }
}

/**
 * The handle the consumer gets: only `request` and `cancel`, so a consumer cannot reach the
 * producer's side of the kernel.
 */
class KernelHandle implements DemandHandle {
  constructor(private readonly kernel: Kernel<unknown>) {}

  request(n: number): void {
    this.kernel.request(n);
  }

  cancel(cancellation?: Cancellation): void {
    this.kernel.cancel(cancellation);
  }

  fuse(fallback: number): void {
    this.kernel.fuse(fallback);
  }

  isFused(): boolean {
    return this.kernel.isFused;
  }

  poll(): unknown {
    return this.kernel.poll();
  }
}

function validDemand(n: unknown): n is number {
  // A whole number of values, or Infinity: 1.5 would otherwise round up to 2 values (rule 1.1).
  return typeof n === 'number' && n > 0 && (Number.isInteger(n) || n === Infinity);
}

function invalidDemand(operator: string, n: unknown): ProtocolError {
  return new ProtocolError(
    `${operator}: request(n) needs a whole n > 0 or Infinity (Reactive Streams rule 3.9), got ${String(n)}`,
  );
}
