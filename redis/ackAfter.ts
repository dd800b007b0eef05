import { Observable, from, type ObservableInput, type OperatorFunction } from 'rxjs';
import { optionTypeError } from '../lib/core/errors.js';
import { optionalFunction, optionsObject } from '../lib/core/validate.js';
import { mergeWorkers, type MergeWorkersOptions } from '../operators/mergeWorkers.js';
import type { RedisStreamMessage } from './ledger.js';
import { RedisStreamError } from './errors.js';

const NAME = 'ackAfter';

/** The context a worker of {@link ackAfter} gets (the pool's: index, attempt, signal). */
export type AckWorkContext = Parameters<Parameters<typeof mergeWorkers<RedisStreamMessage, unknown>>[0]>[1];

/** The options of {@link ackAfter}: the pool's, less `retry` (redelivery is the retry). */
export interface AckAfterOptions extends Omit<
  MergeWorkersOptions<RedisStreamMessage>,
  'retry' | 'errors' | 'onError' | 'scheduler'
> {
  /**
   * `'continue'` (default): a failed entry is rejected (left pending, or dead-lettered on its last
   * delivery) and the pool goes on. `'fail-fast'`: it is rejected, then its error ends the stream.
   */
  errors?: 'continue' | 'fail-fast';
  /** Called for each failed entry, after it was left pending or dead-lettered. */
  onError?: (error: unknown, message: RedisStreamMessage, outcome: 'pending' | 'dead-lettered') => void;
  /**
   * Called when an ack (or a dead-letter write) did not reach Redis; the entry stays pending and
   * will be redelivered. Without it, such a failure ends the stream with a RedisStreamError.
   */
  onAckError?: (error: RedisStreamError, message: RedisStreamMessage) => void;
}

const KEYS: (keyof AckAfterOptions)[] = [
  'concurrency',
  'errors',
  'onError',
  'onAckError',
  'capacity',
  'resultCapacity',
  'overflow',
  'onDrop',
  'monitor',
];

/**
 * Runs `work` for each message on a {@link mergeWorkers} pool and acks the entry only when the
 * work succeeded: at-least-once, the ack after the effect.
 *
 * The slot of a message is held until Redis confirmed its XACK, so the output completes only
 * once every finished entry is acked. A failed work calls `message.reject(error)`: the entry
 * stays pending and is redelivered by `claimIdle` (to this or another consumer), or, on its last
 * allowed delivery, is dead-lettered with the error. Work aborted by the pool (unsubscribe, a
 * drain deadline) is neither acked nor rejected: the entry stays pending for another consumer.
 *
 * ## Warnings
 * At-least-once, not exactly-once: a consumer that dies after the effect and before the ack has
 * its entry done again by whoever claims it. Make the effect idempotent (keyed by `message.id`)
 * and it is effectively once (docs/scale-out.md). An ack that fails is never silent: it ends the
 * stream, or goes to `onAckError`.
 *
 * ## Example
 * ```ts
 * fromRedisStream({ client, stream, group, consumer, claimIdle: 30_000 }).pipe(
 *   ackAfter((m, { signal }) => store.put(m.id, m.fields, { signal }), { concurrency: 8 }),
 * );
 * ```
 *
 * @see {@link fromRedisStream}, {@link mergeWorkers}
 * @param work The work for one message; its completion is the success that is acked.
 * @param options The pool's options (concurrency required), the error policy and the callbacks.
 * @return A function that returns a demand-aware Observable of the work's results.
 */
export function ackAfter<R>(
  work: (message: RedisStreamMessage, context: AckWorkContext) => ObservableInput<R>,
  options: AckAfterOptions,
): OperatorFunction<RedisStreamMessage, R> {
  if (typeof work !== 'function') throw optionTypeError(NAME, 'work', 'a function', work);
  const opts = optionsObject<AckAfterOptions>(NAME, options, true, KEYS);
  const errors = opts.errors ?? 'continue';
  if (errors !== 'continue' && errors !== 'fail-fast') {
    throw optionTypeError(NAME, 'errors', "'continue' or 'fail-fast'", errors);
  }
  const onError = optionalFunction<AckAfterOptions['onError']>(NAME, 'onError', opts.onError);
  const onAckError = optionalFunction<AckAfterOptions['onAckError']>(NAME, 'onAckError', opts.onAckError);
  const { errors: _e, onError: _o, onAckError: _a, ...pool } = opts;
  const worker = (message: RedisStreamMessage, context: AckWorkContext): Observable<R> =>
    acked(message, () => work(message, context), onError, onAckError);
  return mergeWorkers<RedisStreamMessage, R>(worker, {
    ...(pool as MergeWorkersOptions<RedisStreamMessage>),
    errors,
    concurrency: opts.concurrency as MergeWorkersOptions<RedisStreamMessage>['concurrency'],
    // Only a failure of the work itself arrives here: a failed ack or dead-letter is rethrown so
    // that the pool ends the stream with it (a throwing onError fails the pool).
    onError: rethrowRedisErrors,
  });
}

/** Ack and dead-letter failures that must end the stream even under `errors: 'continue'`. */
const fatal = new WeakSet<object>();

function fatalError(error: RedisStreamError): RedisStreamError {
  fatal.add(error);
  return error;
}

function fatalThrown(thrown: unknown): object {
  const error = typeof thrown === 'object' && thrown !== null ? thrown : new Error(String(thrown));
  fatal.add(error);
  return error;
}

function rethrowRedisErrors(error: unknown): void {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- it is the error the worker failed with, passed on as it is
  if (typeof error === 'object' && error !== null && fatal.has(error)) throw error;
}

/**
 * The inner of one message: the work's results pass through; on completion the entry is acked
 * before the inner completes; on error it is rejected before the error goes on.
 */
function acked<R>(
  message: RedisStreamMessage,
  run: () => ObservableInput<R>,
  onError: AckAfterOptions['onError'],
  onAckError: AckAfterOptions['onAckError'],
): Observable<R> {
  return new Observable<R>((subscriber) => {
    const ackFailed = (err: unknown): void => {
      const error = err instanceof RedisStreamError ? err : new RedisStreamError(NAME, 'XACK', String(err), err);
      if (onAckError === undefined) {
        subscriber.error(fatalError(error));
        return;
      }
      try {
        onAckError(error, message);
      } catch (thrown) {
        subscriber.error(fatalError(new RedisStreamError(NAME, 'XACK', `onAckError threw: ${String(thrown)}`, thrown)));
        return;
      }
      subscriber.complete();
    };
    const failed = (err: unknown): void => {
      message.reject(err).then((outcome) => {
        try {
          onError?.(err, message, outcome);
        } catch (thrown) {
          // A throwing callback ends the stream, as a throwing onError of the pool does.
          subscriber.error(fatalThrown(thrown));
          return;
        }
        subscriber.error(err);
      }, ackFailed);
    };
    let input: ObservableInput<R>;
    try {
      input = run();
    } catch (err) {
      failed(err);
      return undefined;
    }
    const inner = from(input).subscribe({
      next: (value) => subscriber.next(value),
      error: failed,
      complete: () => {
        message.ack().then(() => subscriber.complete(), ackFailed);
      },
    });
    return () => inner.unsubscribe();
  });
}
