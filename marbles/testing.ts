import { Observable, type MonoTypeOperatorFunction, type Observer, type SchedulerLike, type Subscription } from 'rxjs';
import { demandProtocolOf, toDemandObservable, type DemandHandle } from '../lib/core/protocol.js';

/**
 * A slow, demand-aware consumer for tests: it subscribes through the demand handshake, asks for
 * one value, and after each value waits `frames` frames on `scheduler` (it is "busy") before
 * asking for the next. Demand never accumulates while the source is idle, so at most one value
 * passes every `frames` frames. Values, completion and errors are passed on unchanged.
 *
 * Against a plain Observable (no handshake) it cannot slow anything down, so it subscribes as an
 * ordinary subscriber and values pass through as pushed: exactly what a naive consumer
 * experiences, which failure-mode cases rely on.
 *
 * @param frames Frames of "work" per value; an integer >= 0.
 * @param scheduler The run's TestScheduler (`helpers.scheduler` in a marble case).
 */
export function pullEvery<T>(frames: number, scheduler: SchedulerLike): MonoTypeOperatorFunction<T> {
  if (!Number.isInteger(frames) || frames < 0) {
    throw new RangeError(`pullEvery: 'frames' must be an integer >= 0, got ${String(frames)}`);
  }
  return (source) =>
    new Observable<T>((subscriber) => {
      // Only the versioned handshake is used (not the library's internal upstream helpers), so
      // this consumer behaves like any third-party demand-aware stage would.
      const protocol = demandProtocolOf(source);
      if (protocol === undefined) return source.subscribe(subscriber);

      let busy: Subscription | undefined;
      const handle: DemandHandle = protocol.subscribe({
        next(value) {
          subscriber.next(value);
          // Always runs later than now (a scheduled action), so `handle` is initialised by then.
          busy = scheduler.schedule(() => {
            busy = undefined;
            handle.request(1);
          }, frames);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      handle.request(1);
      return () => {
        busy?.unsubscribe();
        handle.cancel();
      };
    });
}

/** The stand-in work of many cases: a value's result is the value upper-cased. */
export const upper = (v: string): string => v.toUpperCase();

/** Subscription marbles of a job subscribed at frame `from` for `frames` frames: `sub(2, 3)` is `--^--!`. */
export function sub(from: number, frames: number): string {
  return `${'-'.repeat(from)}^${'-'.repeat(frames - 1)}!`;
}

/**
 * The same demand-aware stream, with `observer` told of each value in the frame it is delivered
 * and of the terminal: a tap that keeps the handshake (RxJS's `tap` returns a plain Observable,
 * which the next stage would have to absorb instead of pulling). Used to draw what a consumer
 * outside RxJS (a `for await` loop) received, and when.
 */
export function tapDemand<T>(source: Observable<T>, observer: Partial<Observer<T>>): Observable<T> {
  const protocol = demandProtocolOf(source);
  if (protocol === undefined) throw new TypeError('tapDemand: the source is not demand-aware');
  return toDemandObservable<T>({
    version: protocol.version,
    subscribe: (downstream) =>
      protocol.subscribe({
        start: (handle) => downstream.start?.(handle),
        next(value) {
          observer.next?.(value);
          downstream.next(value);
        },
        error(err) {
          observer.error?.(err);
          downstream.error(err);
        },
        complete() {
          observer.complete?.();
          downstream.complete();
        },
      }),
  });
}
