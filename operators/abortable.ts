import { Observable, type MonoTypeOperatorFunction, type Subscriber } from 'rxjs';
import { optionTypeError } from '../lib/core/errors.js';
import { demandSource, type Producer, type ProducerSink } from '../lib/core/producer.js';
import { demandProtocolOf } from '../lib/core/protocol.js';
import { upstreamOf, type Upstream } from '../lib/core/upstream.js';
import { streamCancellation } from './pull-adapter.js';

const NAME = 'abortable';

/**
 * Ends a pipeline when an `AbortSignal` aborts: the stream fails with the signal's `reason` and
 * its source is unsubscribed, as `fetch` or `pipeTo` do with a signal.
 *
 * Demand passes through unchanged, so the stage can sit anywhere between library stages. Where
 * it sits decides what the workers see:
 * - **At the intake** (`fromPull(src).pipe(abortable(signal), mergeWorkers(...))`): the reason
 *   travels down as the source's error, so every pool after it aborts its running work with a
 *   `CancelledError` of reason `'source-failed'` whose `cause` is the signal's reason, then
 *   fails with that reason.
 * - **Last**: the pipeline fails with the reason at once; the stages above it are cancelled
 *   (reason `'unsubscribed'`, the signal's reason as the cancellation's `cause`), so every pool
 *   above aborts its running work with a `CancelledError` of reason `'unsubscribed'` whose
 *   `cause` is the signal's reason.
 *
 * A signal already aborted fails the subscription at once without subscribing to the source.
 * The listener is removed when the subscription ends, so a long-lived signal keeps nothing alive.
 * For a graceful stop that lets queued work finish, use `drainOnComplete({ stop: signal })`.
 *
 * ## Example
 * ```ts
 * const controller = new AbortController();
 * fromPull(jobs()).pipe(abortable(controller.signal), mergeWorkers(run, { concurrency: 8 })).subscribe();
 * controller.abort(new Error('shutting down')); // every running job's signal aborts
 * ```
 *
 * @see {@link drainOnComplete}, {@link mergeWorkers}
 * @param signal The AbortSignal that ends the pipeline.
 * @return A function that returns an Observable of the source's values until the signal aborts;
 * demand-aware when the source is.
 */
export function abortable<T>(signal: AbortSignal): MonoTypeOperatorFunction<T> {
  if (!isAbortSignal(signal)) throw optionTypeError(NAME, 'signal', 'an AbortSignal', signal);
  return (source) =>
    demandProtocolOf(source) === undefined
      ? new Observable<T>((subscriber) => abortPlain(source, signal, subscriber))
      : demandSource<T>(NAME, (sink) => abortProducer(upstreamOf(source), signal, sink));
}

function isAbortSignal(value: unknown): value is AbortSignal {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Partial<AbortSignal>;
  return typeof s.aborted === 'boolean' && typeof s.addEventListener === 'function';
}

/** A push source: an ordinary subscription that the signal ends. */
function abortPlain<T>(source: Observable<T>, signal: AbortSignal, subscriber: Subscriber<T>): () => void {
  const onAbort = (): void => subscriber.error(signal.reason);
  if (signal.aborted) {
    onAbort();
    return () => undefined;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  const subscription = source.subscribe(subscriber);
  return () => {
    signal.removeEventListener('abort', onAbort);
    subscription.unsubscribe();
  };
}

/** A pausable source: demand is forwarded as it grows; the signal fails the stream. */
function abortProducer<T>(upstream: Upstream<T>, signal: AbortSignal, sink: ProducerSink<T>): Producer {
  // Requested upstream and not yet delivered; Infinity once downstream is unbounded.
  let forwarded = 0;

  function onAbort(): void {
    sink.error(signal.reason);
  }

  function pump(): void {
    const demand = sink.demand;
    if (forwarded === Infinity || demand <= forwarded) return;
    const more = demand === Infinity ? Infinity : demand - forwarded;
    forwarded = demand;
    upstream.request(more);
  }

  function connect(): void {
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    upstream.connect({
      next(value) {
        if (forwarded !== Infinity) forwarded--;
        sink.next(value);
      },
      error: (err: unknown) => sink.error(err),
      complete: () => sink.complete(),
    });
  }

  function teardown(cancellation?: Parameters<Upstream<T>['cancel']>[0]): void {
    signal.removeEventListener('abort', onAbort);
    // Failed by the signal: the source hears why, as the cancellation's cause.
    upstream.cancel(cancellation ?? (signal.aborted ? streamCancellation(signal.reason) : undefined));
  }

  return { pump, teardown, connect };
}
