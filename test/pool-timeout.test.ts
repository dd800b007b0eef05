/** `timeout` on mergeWorkers and orderedMerge: per attempt, on the scheduler, seen by retry. */
import { NEVER, Subscription, map, of, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { TimeoutError, fromPull, mergeWorkers, orderedMerge, workerMonitor } from '../index.js';
import { marbles } from './helpers.js';

/** A scheduler that counts the timers it hands out and those still live. */
function counting(inner: SchedulerLike): SchedulerLike & { live(): number; made(): number } {
  const subs: Subscription[] = [];
  return {
    now: () => inner.now(),
    schedule<S>(work: (this: SchedulerAction<S>, state?: S) => void, delay?: number, state?: S): Subscription {
      const sub = inner.schedule(work, delay, state);
      subs.push(sub);
      return sub;
    },
    live: () => subs.filter((s) => !s.closed).length,
    made: () => subs.length,
  };
}

describe('timeout', () => {
  it('an attempt past its timeout: the signal aborts with a TimeoutError, the inner is let go, the stream fails', () => {
    const signals: AbortSignal[] = [];
    marbles(({ cold, expectObservable, expectSubscriptions }, scheduler) => {
      const job = cold('------(x|)');
      const out = cold('a|').pipe(
        mergeWorkers(
          (_v: string, { signal }) => {
            signals.push(signal);
            return job;
          },
          { concurrency: 1, timeout: 3, scheduler },
        ),
      );
      expectObservable(out).toBe('---#', undefined, new TimeoutError('mergeWorkers', 3, 0, 1));
      expectSubscriptions(job.subscriptions).toBe('^--!');
    });
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toBeInstanceOf(TimeoutError);
    expect((signals[0]!.reason as TimeoutError).message).toBe(
      'mergeWorkers: attempt 1 of value #0 timed out after 3 ms',
    );
  });

  it('retry sees a timeout like any failure; the next attempt gets a fresh signal', () => {
    const signals: AbortSignal[] = [];
    const monitor = workerMonitor();
    marbles(({ cold, expectObservable }, scheduler) => {
      const slow = cold('-----(x|)', { x: 'slow' });
      const fast = cold('-(x|)', { x: 'fast' });
      const out = cold('a|').pipe(
        mergeWorkers(
          (_v: string, { signal, attempt }) => {
            signals.push(signal);
            return attempt === 1 ? slow : fast;
          },
          { concurrency: 1, timeout: 2, retry: { count: 1, delay: 1, jitter: 0 }, scheduler, monitor },
        ),
      );
      // Attempt 1 times out at 2, the retry starts at 3 and finishes at 4.
      expectObservable(out).toBe('----(x|)', { x: 'fast' });
    });
    expect(signals).toHaveLength(2);
    expect(signals[0]!.reason).toBeInstanceOf(TimeoutError);
    expect(signals[1]!.aborted).toBe(false);
    expect(monitor.snapshot()).toMatchObject({ received: 1, completed: 1, retried: 1, failed: 0 });
  });

  it('shouldRetry can leave timeouts out', () => {
    let attempts = 0;
    marbles(({ cold, expectObservable }, scheduler) => {
      const out = cold('a|').pipe(
        mergeWorkers(
          () => {
            attempts++;
            return cold('-----(x|)');
          },
          {
            concurrency: 1,
            timeout: 2,
            retry: { count: 3, delay: 1, shouldRetry: (err) => !(err instanceof TimeoutError) },
            scheduler,
          },
        ),
      );
      expectObservable(out).toBe('--#', undefined, new TimeoutError('mergeWorkers', 2, 0, 1));
    });
    expect(attempts).toBe(1);
  });

  it("a promise that resolves after its attempt timed out is ignored; errors: 'continue' reports the timeout", async () => {
    const failures: unknown[] = [];
    let release!: (v: number) => void;
    const late = new Promise<number>((resolve) => (release = resolve));
    const results: number[] = [];
    const monitor = workerMonitor();
    await new Promise<void>((done) => {
      fromPull([1, 2])
        .pipe(
          mergeWorkers((x: number) => (x === 1 ? late : Promise.resolve(x)), {
            concurrency: 2,
            timeout: 5,
            errors: 'continue',
            onError: (err) => failures.push(err),
            monitor,
          }),
        )
        .subscribe({ next: (v) => results.push(v), complete: done });
    });
    release(1);
    await late;
    await new Promise((r) => setTimeout(r, 5));
    expect(results).toEqual([2]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(TimeoutError);
    expect(monitor.snapshot()).toMatchObject({ received: 2, completed: 1, failed: 1 });
  });

  it('work that finishes in time releases its timer; no timer outlives the stream', () => {
    marbles(({ cold, expectObservable }, scheduler) => {
      const timers = counting(scheduler);
      const out = cold('abc|').pipe(
        orderedMerge((v: string) => cold('-(x|)').pipe(map(() => v.toUpperCase())), {
          concurrency: 2,
          timeout: 10,
          scheduler: timers,
        }),
      );
      expectObservable(out).toBe('-AB(C|)');
      scheduler.flush();
      expect(timers.made()).toBe(3);
      expect(timers.live()).toBe(0);
    });
  });

  it('an unsubscribe releases the running attempts timers', () => {
    marbles(({ cold, expectObservable }, scheduler) => {
      const timers = counting(scheduler);
      const out = cold('ab').pipe(mergeWorkers(() => NEVER, { concurrency: 2, timeout: 50, scheduler: timers }));
      expectObservable(out, '^--!').toBe('');
      scheduler.flush();
      expect(timers.made()).toBe(2);
      expect(timers.live()).toBe(0);
    });
  });

  it('a synchronous inner never arms a timer', () => {
    marbles(({ cold, expectObservable }, scheduler) => {
      const timers = counting(scheduler);
      expectObservable(
        cold('ab|').pipe(mergeWorkers((v: string) => of(v), { concurrency: 1, timeout: 5, scheduler: timers })),
      ).toBe('ab|');
      scheduler.flush();
      expect(timers.made()).toBe(0);
    });
  });

  it('TimeoutError is recognised across copies by its brand', () => {
    const err = new TimeoutError('orderedMerge', 7, 3, 2);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toBeInstanceOf(Error);
    expect({ name: 'TimeoutError', message: 'x' }).not.toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ operator: 'orderedMerge', timeout: 7, index: 3, attempt: 2 });
  });
});
