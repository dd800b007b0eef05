import { ProtocolError } from './errors.js';
import {
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
export interface Producer {
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
export function demandSource<T>(operator: string, start: (sink: ProducerSink<T>) => Producer): DemandObservable<T> {
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
  start: (sink: ProducerSink<T>) => Producer,
): DemandHandle {
  let observer: DemandObserver<T> | undefined = downstream;
  let producer: Producer | undefined;
  let demand = 0;
  let pumping = false;
  let again = false;
  let tornDown = false;
  let pendingCancellation: Cancellation | undefined;

  function finish(): DemandObserver<T> | undefined {
    const target = observer;
    observer = undefined;
    demand = 0;
    release();
    return target;
  }

  function release(cancellation?: Cancellation): void {
    if (tornDown || producer === undefined) return;
    tornDown = true;
    const p = producer;
    producer = undefined;
    p.teardown(cancellation);
  }

  function runPump(): void {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        if (observer === undefined || producer === undefined) break;
        producer.pump();
      } while (again);
    } finally {
      pumping = false;
    }
  }

  const sink: ProducerSink<T> = {
    get demand() {
      return demand;
    },
    get closed() {
      return observer === undefined;
    },
    next(value) {
      if (observer === undefined) return;
      if (demand <= 0) {
        // A library bug, not a user error; fail loudly rather than overrun the consumer.
        finish()?.error(new ProtocolError(`${operator}: emitted a value without demand (rule 1.1)`));
        return;
      }
      if (demand !== Infinity) demand--;
      observer.next(value);
    },
    error(err) {
      finish()?.error(err);
    },
    complete() {
      finish()?.complete();
    },
    schedulePump() {
      if (observer !== undefined && producer !== undefined) runPump();
    },
  };

  const handle: DemandHandle = {
    request(n) {
      if (observer === undefined) return;
      if (n !== 1 && !validDemand(n)) {
        finish()?.error(invalidDemand(operator, n));
        return;
      }
      demand += n; // Infinity + n stays Infinity
      if (producer !== undefined) runPump();
    },
    cancel(cancellation) {
      observer = undefined;
      demand = 0;
      pendingCancellation = cancellation;
      release(cancellation);
    },
  };

  downstream.start?.(handle);
  if (observer === undefined) return handle; // cancelled or failed inside start
  try {
    producer = start(sink);
    if (observer !== undefined) producer.connect?.();
  } catch (err) {
    // Reactive Streams 2.13: a failure while starting is signalled, never thrown at the consumer.
    finish()?.error(err);
    return handle;
  }
  if (observer === undefined) {
    // The producer ended, or was cancelled, during start or connect; release it now.
    release(pendingCancellation);
  } else if (demand > 0) {
    runPump();
  }
  return handle;
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
