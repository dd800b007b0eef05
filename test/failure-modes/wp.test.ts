import { describe, expect, it } from 'vitest';
import {
  Subject,
  concatMap,
  firstValueFrom,
  from,
  lastValueFrom,
  mergeMap,
  of,
  reduce,
  take,
  tap,
  toArray,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { eachValueFrom } from 'rxjs-for-await';
import fc from 'fast-check';
import {
  CancelledError,
  ClosedError,
  channel,
  fromPull,
  mergeWorkers,
  orderedMerge,
  toAsyncIterable,
  workerMonitor,
} from '../../index.js';
import { countingIterable, probe } from '../helpers.js';

/*
 * Failure modes WP-01..WP-13 ("Worker pools, find the bug") where marbles cannot go: Promise
 * workers, AbortSignals, for-await loops, channels driven by async producers, and properties over
 * many shapes. The marble cases are in marbles/cases/failure-modes/wp.ts; the catalog is
 * docs/failure-modes.md. Nothing here measures wall-clock time: assertions are about order
 * and counts around microtasks and a few macrotask turns, or run in virtual time.
 */

/** Lets queued microtasks and one macrotask turn run. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await tick();
}

/** Whether a promise has settled, without waiting for it. */
function tracked<T>(promise: Promise<T>): { readonly settled: boolean } {
  const state = { settled: false };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

/** Resolves after `ms` real milliseconds, or rejects with the signal's reason when it aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

/** A promise opened by hand: lets a test decide when "long" work ends, without timers. */
function gate(): { readonly opened: Promise<void>; open(): void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open: () => open() };
}

/** Waits for `promise`, or rejects with the signal's reason as soon as it aborts. */
function until<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject);
  });
}

function virtual(run: (scheduler: TestScheduler) => void): void {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  scheduler.run(() => run(scheduler));
}

describe('WP-01 the hung pool', () => {
  it('[WP-01] naive: lastValueFrom over mergeMap of a Subject that is never completed never settles', async () => {
    const jobs = new Subject<number>();
    const all = tracked(
      lastValueFrom(
        jobs.pipe(
          mergeMap(async (n) => n * n, 3),
          toArray(),
        ),
      ),
    );
    for (let i = 1; i <= 5; i++) jobs.next(i);
    await ticks(5);
    expect(all.settled).toBe(false);
    jobs.complete(); // the missing close (and the end of this test's subscription)
  });

  it('[WP-01] library: closing the channel lets the pool finish the accepted jobs and complete', async () => {
    const jobs = channel<number>({ capacity: 10 });
    const all = lastValueFrom(
      jobs.observable.pipe(
        mergeWorkers(async (n: number) => n * n, { concurrency: 3 }),
        toArray(),
      ),
    );
    for (let i = 1; i <= 5; i++) await jobs.send(i);
    jobs.close();
    expect((await all).sort((a, b) => a - b)).toEqual([1, 4, 9, 16, 25]);
  });
});

describe('WP-02 the vanishing workers', () => {
  it('[WP-02] naive: a worker that registers its promise after an await is missed by Promise.all', async () => {
    const pending: Promise<number>[] = [];
    const done: number[] = [];
    for (const job of [1, 2, 3, 4]) {
      void (async () => {
        await Promise.resolve(); // the goroutine has started, but has not yet said so
        pending.push(sleep(1).then(() => (done.push(job), job)));
      })();
    }
    const results = await Promise.all(pending); // the Wait: it counts what has registered so far
    expect(results).toEqual([]);
    expect(done).toEqual([]);
    await sleep(5);
    expect(done.sort()).toEqual([1, 2, 3, 4]); // the work finished after "all done"
  });

  it('[WP-02] library: the pool counts a value when it accepts it, so its completion waits for every job', async () => {
    const done: number[] = [];
    const results = await lastValueFrom(
      fromPull([1, 2, 3, 4]).pipe(
        mergeWorkers(
          async (job: number) => {
            await Promise.resolve();
            await sleep(1);
            done.push(job);
            return job;
          },
          { concurrency: 4 },
        ),
        toArray(),
      ),
    );
    expect(results.sort()).toEqual([1, 2, 3, 4]);
    expect(done.sort()).toEqual([1, 2, 3, 4]);
  });
});

describe('WP-03 send on closed channel', () => {
  it('[WP-03] naive: next() on a completed Subject is silently ignored', () => {
    const jobs = new Subject<number>();
    const seen: number[] = [];
    jobs.subscribe((n) => seen.push(n));
    jobs.next(1);
    jobs.complete(); // a worker "closes" the input
    expect(() => jobs.next(2)).not.toThrow();
    expect(seen).toEqual([1]);
  });

  it('[WP-03] library: after close() send rejects with ClosedError and trySend returns false; close() is idempotent', async () => {
    const jobs = channel<number>({ capacity: 4 });
    await jobs.send(1);
    jobs.close();
    expect(() => jobs.close()).not.toThrow();
    await expect(jobs.send(2)).rejects.toBeInstanceOf(ClosedError);
    await expect(jobs.send(2)).rejects.toThrow(/channel: closed/);
    expect(jobs.trySend(3)).toBe(false);
    // What was accepted before the close is still delivered.
    expect(await lastValueFrom(jobs.observable.pipe(toArray()))).toEqual([1]);
  });

  it('[WP-03] library: a producer waiting for room is rejected with ClosedError when the channel closes', async () => {
    const jobs = channel<number>({ capacity: 1 });
    await jobs.send(1);
    const waiting = jobs.send(2); // no room: waits
    expect(jobs.pendingSends).toBe(1);
    jobs.close();
    await expect(waiting).rejects.toBeInstanceOf(ClosedError);
    expect(jobs.pendingSends).toBe(0);
  });
});

describe('WP-04 the race condition (shared counter)', () => {
  it('[WP-04] nearest hazard: counter++ between awaits is safe on one thread, a read-await-write loses updates', async () => {
    let atomic = 0;
    let racy = 0;
    await lastValueFrom(
      fromPull(Array.from({ length: 100 }, (_, i) => i)).pipe(
        mergeWorkers(
          async () => {
            atomic++; // one synchronous step: nothing can interleave
            const read = racy;
            await Promise.resolve(); // the other workers run here
            racy = read + 1;
          },
          { concurrency: 8 },
        ),
        toArray(),
      ),
    );
    expect(atomic).toBe(100);
    expect(racy).toBeLessThan(100);
  });

  it('[WP-04] library: workers return their part and a single reduce downstream aggregates them', async () => {
    const total = await lastValueFrom(
      fromPull(Array.from({ length: 100 }, (_, i) => i)).pipe(
        mergeWorkers(
          async () => {
            await Promise.resolve();
            return 1;
          },
          { concurrency: 8 },
        ),
        reduce((sum, n) => sum + n, 0),
      ),
    );
    expect(total).toBe(100);
  });
});

describe('WP-05 the wait that never returns (results never drained)', () => {
  it('[WP-05] naive: eachValueFrom keeps the pool running for a loop that has stopped reading', async () => {
    let started = 0;
    const results = eachValueFrom(
      from(Array.from({ length: 1000 }, (_, i) => i)).pipe(
        mergeMap(async (n) => {
          started++;
          await Promise.resolve();
          return n;
        }, 4),
      ),
    );
    expect((await results.next()).value).toBe(0);
    await ticks(3); // the loop is busy elsewhere
    expect(started).toBe(1000); // every job ran; 999 results wait in the bridge's array
    await results.return?.(undefined);
  });

  it('[WP-05] library: toAsyncIterable asks for one result at a time, so the pool stops when the loop does', async () => {
    const source = countingIterable(1000);
    let started = 0;
    const signals: AbortSignal[] = [];
    const results = toAsyncIterable(
      fromPull(source.iterable).pipe(
        mergeWorkers(
          async (n: number, { signal }) => {
            started++;
            signals.push(signal);
            await Promise.resolve();
            return n;
          },
          { concurrency: 4 },
        ),
      ),
    );
    expect((await results.next()).value).toBe(0);
    await ticks(3);
    // Bounded by the pool (running plus results waiting), not by the source.
    expect(started).toBeLessThanOrEqual(8);
    expect(source.pulled()).toBeLessThanOrEqual(9);
    await results.return?.();
    expect(source.returned()).toBe(true);
  });
});

describe('WP-06 the panic cascade', () => {
  it('[WP-06] naive: one rejecting job fails the whole mergeMap and the jobs after it never run', async () => {
    const ran: number[] = [];
    const run = lastValueFrom(
      from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).pipe(
        concatMap(async (n) => {
          ran.push(n);
          if (n === 7) throw new Error('seven is bad');
          return n * n;
        }),
        toArray(),
      ),
    );
    await expect(run).rejects.toThrow('seven is bad');
    expect(ran).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("[WP-06] library: errors: 'continue' reports the bad job and the pool, at full size, does the rest", async () => {
    const monitor = workerMonitor();
    const reported: [string, number][] = [];
    const results = await lastValueFrom(
      fromPull([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).pipe(
        mergeWorkers(
          async (n: number) => {
            if (n === 7) throw new Error('seven is bad');
            return n * n;
          },
          {
            concurrency: 1,
            errors: 'continue',
            onError: (err, n) => reported.push([(err as Error).message, n]),
            monitor,
          },
        ),
        toArray(),
      ),
    );
    expect(results).toEqual([1, 4, 9, 16, 25, 36, 64, 81, 100]);
    expect(reported).toEqual([['seven is bad', 7]]);
    expect(monitor.snapshot()).toMatchObject({ completed: 9, failed: 1, inFlight: 0 });
  });

  it('[WP-06] library: a transient failure is retried (bounded, with backoff) before it counts as one', async () => {
    let attempts = 0;
    const results = await lastValueFrom(
      fromPull([1, 2, 3]).pipe(
        mergeWorkers(
          async (n: number, { attempt }) => {
            if (n === 2) {
              attempts = attempt;
              if (attempt < 3) throw new Error('flaky');
            }
            return n;
          },
          { concurrency: 1, retry: { count: 3, delay: 1, jitter: 0 } },
        ),
        toArray(),
      ),
    );
    expect(results).toEqual([1, 2, 3]);
    expect(attempts).toBe(3);
  });
});

describe('WP-07 cancellation that doesn’t', () => {
  it('[WP-07] naive: unsubscribing from mergeMap does not stop a Promise that is already running', async () => {
    const work = gate();
    const processed: number[] = [];
    const subscription = from([1, 2, 3])
      .pipe(
        mergeMap(async (n) => {
          await work.opened; // a long sleep or an HTTP call
          processed.push(n);
          return n;
        }, 3),
      )
      .subscribe();
    subscription.unsubscribe(); // cancel()
    work.open();
    await ticks(2);
    expect(processed).toEqual([1, 2, 3]); // processed despite the cancel
  });

  it("[WP-07] library: unsubscribing aborts each running worker's signal with a CancelledError (reason 'unsubscribed')", async () => {
    const work = gate();
    const processed: number[] = [];
    const reasons: unknown[] = [];
    const subscription = fromPull([1, 2, 3, 4, 5])
      .pipe(
        mergeWorkers(
          async (n: number, { signal }) => {
            try {
              await until(work.opened, signal);
            } catch (err) {
              reasons.push(err);
              throw err;
            }
            processed.push(n);
            return n;
          },
          { concurrency: 3 },
        ),
      )
      .subscribe();
    subscription.unsubscribe();
    work.open();
    await ticks(2);
    expect(processed).toEqual([]);
    expect(reasons).toHaveLength(3); // the three running; 4 and 5 never started
    for (const reason of reasons) {
      expect(reason).toBeInstanceOf(CancelledError);
      expect((reason as CancelledError).reason).toBe('unsubscribed');
      expect((reason as CancelledError).message).toBe(
        'mergeWorkers: work cancelled because the subscriber unsubscribed',
      );
    }
  });
});

describe('WP-08 the lost results', () => {
  it('[WP-08] naive: break out of eachValueFrom after 3 results; the other jobs run on and their results are lost', async () => {
    const slow = gate();
    let finished = 0;
    const got: number[] = [];
    for await (const n of eachValueFrom(
      from([1, 2, 3, 4, 5]).pipe(
        mergeMap(async (v) => {
          if (v > 3) await slow.opened;
          finished++;
          return v;
        }, 5),
      ),
    )) {
      got.push(n);
      if (got.length === 3) break;
    }
    expect(got.sort()).toEqual([1, 2, 3]);
    slow.open();
    await ticks(2);
    expect(finished).toBe(5); // 4 and 5 finished for nobody
  });

  it("[WP-08] library: break out of toAsyncIterable after 3; the rest are aborted ('unsubscribed') and the source is closed", async () => {
    const slow = gate();
    const source = countingIterable(5);
    let finished = 0;
    const aborted: string[] = [];
    const got: number[] = [];
    for await (const n of toAsyncIterable(
      fromPull(source.iterable).pipe(
        mergeWorkers(
          async (v: number, { signal }) => {
            signal.addEventListener('abort', () => aborted.push((signal.reason as CancelledError).reason));
            if (v >= 3) await until(slow.opened, signal);
            finished++;
            return v;
          },
          { concurrency: 5 },
        ),
      ),
    )) {
      got.push(n);
      if (got.length === 3) break;
    }
    expect(got.sort()).toEqual([0, 1, 2]);
    slow.open();
    await ticks(2);
    expect(finished).toBe(3);
    expect(aborted).toEqual(['unsubscribed', 'unsubscribed']);
    expect(source.returned()).toBe(true);
  });
});

describe('WP-09 double close', () => {
  it('[WP-09] naive: two producers piped into one Subject; the first completion ends it and the rest is dropped', () => {
    const jobs = new Subject<number>();
    const seen: number[] = [];
    jobs.subscribe((n) => seen.push(n));
    of(1, 2, 3).subscribe(jobs);
    of(4, 5, 6).subscribe(jobs); // its values and its complete() are ignored
    expect(seen).toEqual([1, 2, 3]);
  });

  it('[WP-09] library: one closer after both producers; every value arrives and a second close() is harmless', async () => {
    const jobs = channel<number>({ capacity: 2 });
    const all = lastValueFrom(
      jobs.observable.pipe(
        mergeWorkers(async (n: number) => n, { concurrency: 2 }),
        toArray(),
      ),
    );
    const produce = async (items: number[]): Promise<void> => {
      for (const item of items) await jobs.send(item);
    };
    await Promise.all([produce([1, 2, 3]), produce([4, 5, 6])]);
    jobs.close();
    jobs.close();
    expect((await all).sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('WP-10 pool of zero', () => {
  it('[WP-10] naive: mergeMap(fn, 0) takes every value and never runs or completes', () => {
    let ran = 0;
    let completed = false;
    of(1, 2, 3)
      .pipe(
        mergeMap(async (n) => {
          ran++;
          return n;
        }, 0),
      )
      .subscribe({ complete: () => (completed = true) });
    expect(ran).toBe(0);
    expect(completed).toBe(false);
  });

  it("[WP-10] library: a pool size below 1 fails fast with a RangeError naming 'concurrency'", () => {
    const work = async (n: number): Promise<number> => n;
    for (const bad of [0, -1, 0.5, NaN]) {
      expect(() => mergeWorkers(work, { concurrency: bad })).toThrow(RangeError);
      expect(() => mergeWorkers(work, { concurrency: bad })).toThrow(
        `mergeWorkers: 'concurrency' must be a positive integer or an Observable<number>, got ${String(bad)}`,
      );
      expect(() => orderedMerge(work, { concurrency: bad })).toThrow(/orderedMerge: 'concurrency'/);
    }
  });

  it('[WP-10] library: a concurrency Observable that drops to 0 is floored at 1, and the pool finishes', async () => {
    const limit = new Subject<number>();
    let active = 0;
    let maxActive = 0;
    const all = lastValueFrom(
      fromPull([1, 2, 3, 4]).pipe(
        mergeWorkers(
          async (n: number) => {
            maxActive = Math.max(maxActive, ++active);
            await tick();
            active--;
            return n;
          },
          { concurrency: limit },
        ),
        toArray(),
      ),
    );
    limit.next(0);
    expect((await all).sort()).toEqual([1, 2, 3, 4]);
    expect(maxActive).toBe(1);
  });
});

describe('WP-11 deadlock on full results (slow consumer)', () => {
  it('[WP-11] naive: mergeMap under a slow concatMap consumer finishes every job long before the consumer', () => {
    virtual((scheduler) => {
      let produced = 0;
      let consumed = 0;
      let producedWhenFirstConsumed = 0;
      from(Array.from({ length: 100 }, (_, i) => i))
        .pipe(
          mergeMap((n) => scheduler.createColdObservable<number>('-(x|)', { x: n }), 4),
          tap(() => produced++),
          concatMap((n) => scheduler.createColdObservable<number>('----------(x|)', { x: n })),
        )
        .subscribe(() => {
          if (consumed++ === 0) producedWhenFirstConsumed = produced;
        });
      scheduler.flush();
      expect(consumed).toBe(100);
      expect(producedWhenFirstConsumed).toBe(40); // 39 results waiting, unbounded in concatMap
    });
  });

  it('[WP-11] library: a demand-aware consumer that takes one result at a time holds the pool to its pace', () => {
    const source = countingIterable(100);
    const p = probe(fromPull(source.iterable).pipe(mergeWorkers((n: number) => of(n), { concurrency: 4 })));
    p.request(1);
    expect(p.values).toEqual([0]);
    const pulledAfterOne = source.pulled();
    expect(pulledAfterOne).toBeLessThanOrEqual(1 + 4 + 4);
    for (let i = 0; i < 10; i++) p.request(1);
    expect(p.values).toHaveLength(11);
    // Each request lets the pool take about one more value: never far ahead of the consumer.
    expect(source.pulled() - p.values.length).toBeLessThanOrEqual(pulledAfterOne);
  });
});

describe('WP-12 worker exits too early (zero value taken as data)', () => {
  it('[WP-12] naive: a loop that reads iterator results without checking done takes undefined as jobs', async () => {
    async function* jobs(): AsyncGenerator<number, void> {
      yield 1;
      yield 2;
    }
    const iterator = jobs();
    const worked: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const { value } = await iterator.next(); // `done` never looked at
      worked.push(value);
    }
    expect(worked).toEqual([1, 2, undefined, undefined]);
  });

  it('[WP-12] library: fromPull ends the stream at done; workers get only real values and for-await ends', async () => {
    async function* jobs(): AsyncGenerator<number> {
      yield 1;
      yield 2;
    }
    const worked: unknown[] = [];
    const results: number[] = [];
    for await (const r of toAsyncIterable(
      fromPull(jobs()).pipe(
        mergeWorkers(
          async (n: number) => {
            worked.push(n);
            return n * 2;
          },
          { concurrency: 2 },
        ),
      ),
    )) {
      results.push(r);
    }
    expect(worked).toEqual([1, 2]);
    expect(results).toEqual([2, 4]);
  });
});

describe('WP-13 counter off by one', () => {
  it('[WP-13] naive: take(expected) with a count kept apart from the jobs cuts the last result off', async () => {
    const jobs = [1, 2, 3, 4, 5];
    const EXPECTED = 4; // stale
    const results = await lastValueFrom(
      from(jobs).pipe(
        mergeMap(async (n) => n, 2),
        take(EXPECTED),
        toArray(),
      ),
    );
    expect(results).toHaveLength(4);
  });

  it('[WP-13] library: for any number of jobs and any pool size, every result arrives and the pool completes once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer(), { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), async (jobs, n) => {
        let completions = 0;
        const results = await firstValueFrom(
          fromPull(jobs).pipe(
            mergeWorkers(
              async (v: number) => {
                await Promise.resolve();
                return v;
              },
              { concurrency: n },
            ),
            tap({ complete: () => completions++ }),
            toArray(),
          ),
        );
        expect(results.sort((a, b) => a - b)).toEqual([...jobs].sort((a, b) => a - b));
        expect(completions).toBe(1);
      }),
      { numRuns: 50 },
    );
  });
});
