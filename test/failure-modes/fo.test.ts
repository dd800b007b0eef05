import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  Subject,
  concatMap,
  from,
  groupBy,
  lastValueFrom,
  map,
  mergeMap,
  reduce,
  take,
  takeUntil,
  takeWhile,
  tap,
  timer,
  toArray,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import fc from 'fast-check';
import {
  CancelledError,
  batchFresh,
  drainOnComplete,
  fromPull,
  mergeWorkers,
  orderedMerge,
  workerMonitor,
  type DrainReport,
} from '../../index.js';
import { countingIterable } from '../helpers.js';

/*
 * Failure modes FO-01..FO-13 ("Fan-out, find the bug") where marbles cannot go: Promise workers,
 * AbortSignals, worker threads, and properties over many shapes. The marble cases are in
 * marbles/cases/failure-modes/fo.ts; the catalog is docs/failure-modes.md. Nothing here
 * measures wall-clock time: "long" work waits on a gate the test opens, and assertions are about
 * order and counts, or run in virtual time.
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

const reasonOf = (signal: AbortSignal): string | undefined =>
  signal.aborted && signal.reason instanceof CancelledError ? signal.reason.reason : undefined;

describe('FO-01 workers exit early on first error', () => {
  it('[FO-01] naive: workers that store their error in a shared variable return the last error, not the first', async () => {
    let firstErr: Error | undefined;
    await Promise.all(
      [1, 2, 3].map(async (n) => {
        await ticks(n); // worker n fails at turn n
        firstErr = new Error(`worker ${n} failed`);
      }),
    );
    expect(firstErr?.message).toBe('worker 3 failed');
  });

  it('[FO-01] naive: Promise.all rejects with the first error but cannot stop the other workers', async () => {
    const work = gate();
    const finished: number[] = [];
    const all = Promise.all(
      [1, 2, 3].map(async (n) => {
        if (n === 1) throw new Error('first');
        await work.opened;
        finished.push(n);
      }),
    );
    await expect(all).rejects.toThrow('first');
    work.open();
    await ticks(2);
    expect(finished).toEqual([2, 3]);
  });

  it("[FO-01] library: the first error fails the pool; the others are aborted ('sibling-failed', cause: that error)", async () => {
    const work = gate();
    const first = new Error('first');
    const signals: AbortSignal[] = [];
    const finished: number[] = [];
    const run = lastValueFrom(
      fromPull([1, 2, 3, 4, 5]).pipe(
        mergeWorkers(
          async (n: number, { signal }) => {
            signals.push(signal);
            if (n === 1) {
              await tick();
              throw first;
            }
            if (n === 3) {
              await ticks(3);
              throw new Error('later'); // never reported: the pool has already failed
            }
            await until(work.opened, signal);
            finished.push(n);
            return n;
          },
          { concurrency: 3 },
        ),
      ),
    );
    await expect(run).rejects.toBe(first);
    work.open();
    await ticks(4);
    expect(finished).toEqual([]);
    expect(signals).toHaveLength(3); // 4 and 5 never started
    expect(signals.map(reasonOf)).toEqual([undefined, 'sibling-failed', 'sibling-failed']);
    expect((signals[1]!.reason as Error).cause).toBe(first);
  });
});

describe('FO-02 missing wg.Done on an early-return path', () => {
  it('[FO-02] naive: a hand-written semaphore released only on the happy path stalls after an early return', async () => {
    let free = 1;
    const waiters: (() => void)[] = [];
    const acquire = (): Promise<void> =>
      free > 0 ? (free--, Promise.resolve()) : new Promise((resolve) => waiters.push(resolve));
    const release = (): void => {
      const next = waiters.shift();
      if (next === undefined) free++;
      else next();
    };
    const worked: number[] = [];
    const all = tracked(
      Promise.all(
        [1, -1, 2, 3].map(async (n) => {
          await acquire();
          if (n < 0) return; // forgot release()
          await tick();
          worked.push(n);
          release();
        }),
      ),
    );
    await ticks(10);
    expect(worked).toEqual([1]);
    expect(all.settled).toBe(false);
  });

  it('[FO-02] library: an async worker releases its slot on every way out: return, early return, throw', async () => {
    const monitor = workerMonitor();
    const worked: number[] = [];
    const results = await lastValueFrom(
      fromPull([1, -1, 2, -2, 3]).pipe(
        mergeWorkers(
          async (n: number) => {
            if (n === -1) return undefined; // early return
            if (n === -2) throw new Error('negative'); // early throw
            await tick();
            worked.push(n);
            return n;
          },
          { concurrency: 1, errors: 'continue', onError: () => undefined, monitor },
        ),
        toArray(),
      ),
    );
    expect(worked).toEqual([1, 2, 3]);
    expect(results).toEqual([1, undefined, 2, 3]);
    expect(monitor.snapshot()).toMatchObject({ completed: 4, failed: 1, inFlight: 0, queued: 0 });
  });
});

describe('FO-03 work not distributed', () => {
  it('[FO-03] naive: a "pool" built on concatMap runs one job at a time', async () => {
    let active = 0;
    let maxActive = 0;
    await lastValueFrom(
      from([1, 2, 3, 4, 5, 6, 7, 8]).pipe(
        concatMap(async (n) => {
          maxActive = Math.max(maxActive, ++active);
          await tick();
          active--;
          return n;
        }),
        toArray(),
      ),
    );
    expect(maxActive).toBe(1);
  });

  it('[FO-03] library: async jobs overlap on every slot; their CPU-bound parts still run one at a time', async () => {
    let jobs = 0;
    let maxJobs = 0;
    let cpu = 0;
    let maxCpu = 0;
    let spin = 0;
    await lastValueFrom(
      fromPull([1, 2, 3, 4, 5, 6, 7, 8]).pipe(
        mergeWorkers(
          async (n: number) => {
            maxJobs = Math.max(maxJobs, ++jobs);
            await tick(); // I/O: the other slots run meanwhile
            maxCpu = Math.max(maxCpu, ++cpu);
            for (let i = 0; i < 1000; i++) spin += n; // CPU: nothing else runs on this thread meanwhile
            cpu--;
            await tick();
            jobs--;
            return n;
          },
          { concurrency: 4 },
        ),
        toArray(),
      ),
    );
    expect(maxJobs).toBe(4);
    // Spread CPU-bound work over worker threads (see FO-12) to use more than one core.
    expect(maxCpu).toBe(1);
    expect(spin).toBe(36_000);
  });
});

describe('FO-04 channel leaked: the closer never runs', () => {
  it('[FO-04] naive: results forwarded into a Subject that nobody completes; the consumer never finishes', async () => {
    const out = new Subject<number>();
    const all = tracked(lastValueFrom(out.pipe(toArray())));
    await Promise.all([1, 2, 3].map(async (n) => out.next(await Promise.resolve(n * 2))));
    await ticks(3);
    expect(all.settled).toBe(false);
    out.complete();
  });

  it('[FO-04] library: the pool completes its output after the last worker; nothing to close by hand', async () => {
    const results = await lastValueFrom(
      fromPull([1, 2, 3]).pipe(
        mergeWorkers(async (n: number) => n * 2, { concurrency: 4 }),
        toArray(),
      ),
    );
    expect(results.sort()).toEqual([2, 4, 6]);
  });
});

describe('FO-05 single slow worker stalls all', () => {
  const jobs = Array.from({ length: 10 }, (_, i) => i);

  it('[FO-05] naive: round-robin lanes; while job 0 is slow, the jobs pre-assigned to its lane wait', async () => {
    const slow = gate();
    const done: number[] = [];
    const all = lastValueFrom(
      from(jobs).pipe(
        groupBy((n) => n % 2),
        mergeMap((lane$) =>
          lane$.pipe(
            concatMap(async (n) => {
              if (n === 0) await slow.opened;
              done.push(n);
              return n;
            }),
          ),
        ),
        toArray(),
      ),
    );
    await ticks(5);
    expect(done).toEqual([1, 3, 5, 7, 9]); // lane 1 is done and idle; lane 0 is stuck behind 0
    slow.open();
    expect(await all).toHaveLength(10);
  });

  it('[FO-05] library: mergeWorkers lets the other worker take every other job while job 0 is slow', async () => {
    const slow = gate();
    const done: number[] = [];
    const all = lastValueFrom(
      fromPull(jobs).pipe(
        mergeWorkers(
          async (n: number) => {
            if (n === 0) await slow.opened;
            await tick();
            done.push(n);
            return n;
          },
          { concurrency: 2 },
        ),
        toArray(),
      ),
    );
    await ticks(20);
    expect(done).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    slow.open();
    expect(await all).toHaveLength(10);
  });

  it('[FO-05] library: orderedMerge behind a slow head takes no more than its window, and keeps the order', async () => {
    const slow = gate();
    const source = countingIterable(10);
    const emitted: number[] = [];
    const all = lastValueFrom(
      fromPull(source.iterable).pipe(
        orderedMerge(
          async (n: number) => {
            if (n === 0) await slow.opened;
            return n;
          },
          { concurrency: 2, window: 4 },
        ),
        tap((n) => emitted.push(n)),
        toArray(),
      ),
    );
    await ticks(10);
    expect(emitted).toEqual([]);
    expect(source.pulled()).toBe(4);
    slow.open();
    expect(await all).toEqual(jobs);
  });
});

describe('FO-06 unbounded fan-out', () => {
  it('[FO-06] naive: mergeMap without a limit starts a worker for every value at once', async () => {
    let active = 0;
    let maxActive = 0;
    await lastValueFrom(
      from(Array.from({ length: 2_000 }, (_, i) => i)).pipe(
        mergeMap(async (n) => {
          maxActive = Math.max(maxActive, ++active);
          await Promise.resolve();
          active--;
          return n;
        }),
        toArray(),
      ),
    );
    expect(maxActive).toBe(2_000);
  });

  it('[FO-06] library: concurrency is required, and with 4 a 2,000-value source never has more than 4 jobs', async () => {
    expect(() => mergeWorkers(async (n: number) => n, {} as never)).toThrow(TypeError);
    expect(() => mergeWorkers(async (n: number) => n, {} as never)).toThrow(
      /mergeWorkers: 'concurrency' must be a positive integer or an Observable<number>, got undefined/,
    );
    const source = countingIterable(2_000);
    let active = 0;
    let maxActive = 0;
    let done = 0;
    let maxHeld = 0;
    await lastValueFrom(
      fromPull(source.iterable).pipe(
        mergeWorkers(
          async (n: number) => {
            maxActive = Math.max(maxActive, ++active);
            maxHeld = Math.max(maxHeld, source.pulled() - done);
            await Promise.resolve();
            active--;
            done++;
            return n;
          },
          { concurrency: 4 },
        ),
        toArray(),
      ),
    );
    expect(maxActive).toBe(4);
    expect(maxHeld).toBeLessThanOrEqual(4);
  });
});

describe('FO-07 race on a shared result map', () => {
  const words = ['go', 'rx', 'go', 'go', 'rx', 'go', 'ts', 'go'];

  it('[FO-07] nearest hazard: concurrent read-await-write of a shared Map loses counts', async () => {
    const counts = new Map<string, number>();
    await lastValueFrom(
      fromPull(words).pipe(
        mergeWorkers(
          async (w: string) => {
            const n = counts.get(w) ?? 0;
            await tick();
            counts.set(w, n + 1);
          },
          { concurrency: 4 },
        ),
        toArray(),
      ),
    );
    expect(counts.get('go')).toBeLessThan(5);
  });

  it('[FO-07] library: workers count their own fresh batch; one reduce merges the partial maps', async () => {
    const total = await lastValueFrom(
      fromPull(words).pipe(
        batchFresh<string>({ size: 3 }),
        mergeWorkers(
          async (batch: string[]) => {
            const local = new Map<string, number>();
            for (const w of batch) {
              local.set(w, (local.get(w) ?? 0) + 1);
              await tick();
            }
            return local;
          },
          { concurrency: 3 },
        ),
        reduce((acc, part) => {
          for (const [w, n] of part) acc.set(w, (acc.get(w) ?? 0) + n);
          return acc;
        }, new Map<string, number>()),
      ),
    );
    expect(Object.fromEntries(total)).toEqual({ go: 5, rx: 2, ts: 1 });
  });
});

describe('FO-08 double-close on the result channel', () => {
  it('[FO-08] naive: each worker forwards its Observable into the shared Subject; the first completion ends it', async () => {
    const out = new Subject<number>();
    const all = lastValueFrom(out.pipe(toArray()));
    for (const n of [3, 1, 2]) from(new Promise<number>((resolve) => setImmediate(() => resolve(n)))).subscribe(out);
    expect(await all).toEqual([3]); // 1 and 2 went into a completed Subject
  });

  it('[FO-08] library: the output completes exactly once, after the last result', async () => {
    const events: string[] = [];
    await lastValueFrom(
      fromPull([3, 1, 2]).pipe(
        mergeWorkers(async (n: number) => (await ticks(n), n), { concurrency: 3 }),
        tap({ next: (n) => events.push(String(n)), complete: () => events.push('|') }),
        toArray(),
      ),
    );
    expect(events).toEqual(['1', '2', '3', '|']);
  });
});

describe('FO-09 ordering assumed but not preserved', () => {
  it('[FO-09] property: with any job durations, orderedMerge emits in input order; mergeMap in finishing order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 4 }),
        (durations, n) => {
          const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
          scheduler.run(() => {
            const jobs = durations.map((d, i) => ({ i, d }));
            const work = (job: { i: number; d: number }) => timer(job.d, scheduler).pipe(map(() => job.i));
            const ordered: number[] = [];
            const unordered: { i: number; at: number }[] = [];
            from(jobs)
              .pipe(orderedMerge(work, { concurrency: n }))
              .subscribe((i) => ordered.push(i));
            from(jobs)
              .pipe(mergeMap(work, n))
              .subscribe((i) => unordered.push({ i, at: scheduler.now() }));
            scheduler.flush();
            expect(ordered).toEqual(jobs.map((j) => j.i));
            expect(unordered.map((u) => u.i).sort((a, b) => a - b)).toEqual(jobs.map((j) => j.i));
            // mergeMap emits by finishing time, which need not be input order.
            const times = unordered.map((u) => u.at);
            expect(times).toEqual([...times].sort((a, b) => a - b));
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('[FO-09] naive: mergeMap with one slow early job puts its result last', async () => {
    const slow = gate();
    const all = lastValueFrom(
      from([0, 1, 2]).pipe(
        mergeMap(async (n) => {
          if (n === 0) await slow.opened;
          return n;
        }, 3),
        tap((n) => n === 2 && slow.open()),
        toArray(),
      ),
    );
    expect(await all).toEqual([1, 2, 0]);
  });
});

describe('FO-10 cancellation ignored inside the worker', () => {
  it('[FO-10] naive: a multi-step async worker with no signal keeps stepping after the subscriber has gone', async () => {
    const stop = new Subject<void>();
    const log: string[] = [];
    from([1])
      .pipe(
        mergeMap(async () => {
          for (let step = 1; step <= 5; step++) {
            await tick();
            log.push(`step ${step}`);
          }
        }),
        takeUntil(stop),
      )
      .subscribe();
    await ticks(2);
    stop.next();
    log.push('cancelled');
    await ticks(6);
    expect(log.indexOf('cancelled')).toBeLessThan(log.length - 1); // steps logged after the cancel
    expect(log.filter((e) => e.startsWith('step'))).toHaveLength(5);
  });

  it("[FO-10] library: at the drain deadline the signal aborts with reason 'deadline'; a worker that checks it stops", async () => {
    const shutdown = new AbortController();
    const log: string[] = [];
    const reports: DrainReport[] = [];
    const done = lastValueFrom(
      fromPull([1]).pipe(
        drainOnComplete(
          mergeWorkers(
            async (_n: number, { signal }) => {
              signal.addEventListener('abort', () => log.push(`abort: ${(signal.reason as CancelledError).reason}`));
              for (let step = 1; step <= 1000; step++) {
                await tick();
                signal.throwIfAborted(); // between steps: the two-select sandwich in one line
                log.push(`step ${step}`);
              }
              return 'done';
            },
            { concurrency: 1 },
          ),
          { stop: shutdown.signal, deadline: 0, onReport: (r) => reports.push(r) },
        ),
        toArray(),
      ),
    );
    await ticks(2);
    shutdown.abort();
    expect(await done).toEqual([]);
    const aborted = log.indexOf('abort: deadline');
    expect(aborted).toBeGreaterThanOrEqual(0); // how many steps ran before depends on the timers; none after
    expect(log.slice(aborted + 1)).toEqual([]); // no step after the abort
    expect(log.length).toBeLessThan(1000);
    expect(reports).toMatchObject([{ outcome: 'deadline', accepted: 1, aborted: 1, completed: 0 }]);
  });
});

describe('FO-11 producer panics, workers wait forever', () => {
  it('[FO-11] naive: a producer loop that throws before complete() leaves the consumer waiting for ever', async () => {
    const jobs = new Subject<number>();
    const all = tracked(
      lastValueFrom(
        jobs.pipe(
          mergeMap(async (n) => n, 2),
          toArray(),
        ),
      ),
    );
    const produce = (): void => {
      for (const n of [1, 2, -1, 3]) {
        if (n < 0) throw new Error('bad input');
        jobs.next(n);
      }
      jobs.complete(); // skipped by the throw
    };
    expect(produce).toThrow('bad input'); // "recovered" at the edge
    await ticks(3);
    expect(all.settled).toBe(false);
    jobs.complete();
  });

  it("[FO-11] library: a generator that throws fails the stream; running workers are aborted ('source-failed')", async () => {
    const work = gate();
    const signals: AbortSignal[] = [];
    function* jobs(): Generator<number> {
      yield 1;
      yield 2;
      throw new Error('bad input');
    }
    const run = lastValueFrom(
      fromPull(jobs()).pipe(
        mergeWorkers(
          async (n: number, { signal }) => {
            signals.push(signal);
            await until(work.opened, signal);
            return n;
          },
          { concurrency: 4 },
        ),
      ),
    );
    await expect(run).rejects.toThrow('bad input');
    expect(signals.map(reasonOf)).toEqual(['source-failed', 'source-failed']);
    work.open();
  });
});

describe('FO-12 per-worker buffers causing false sharing', () => {
  it('[FO-12] nearest hazard: a scratch buffer shared by concurrent async workers is overwritten across an await', async () => {
    const scratch = new Uint8Array(1);
    const results = await lastValueFrom(
      fromPull([1, 2, 3]).pipe(
        mergeWorkers(
          async (n: number) => {
            scratch[0] = n;
            await tick();
            return scratch[0];
          },
          { concurrency: 3 },
        ),
        toArray(),
      ),
    );
    expect(results).toEqual([3, 3, 3]);
  });

  // A worker thread with its own heap: nothing it touches is shared with the other threads.
  const THREAD = `
    const { parentPort, workerData } = require('node:worker_threads');
    const buf = new Uint8Array(64); // this thread's own buffer
    if (workerData === 'forever') for (;;) {}
    for (let i = 0; i < buf.length; i++) buf[i] = (workerData * (i + 1)) & 0xff;
    parentPort.postMessage(buf.reduce((a, b) => a + b, 0));
  `;

  function onThread(data: number | 'forever', signal: AbortSignal, exits: number[]): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const thread = new Worker(THREAD, { eval: true, workerData: data });
      thread.once('message', (sum: number) => resolve(sum));
      thread.once('error', reject);
      thread.once('exit', (code) => exits.push(code));
      signal.addEventListener(
        'abort',
        () => {
          void thread.terminate();
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  }

  it('[FO-12] library: CPU work on worker threads (a heap each), in order with orderedMerge, terminated on abort', async () => {
    const expected = (n: number): number => {
      let sum = 0;
      for (let i = 0; i < 64; i++) sum += (n * (i + 1)) & 0xff;
      return sum;
    };
    const exits: number[] = [];
    const sums = await lastValueFrom(
      fromPull([1, 2, 3]).pipe(
        orderedMerge((n: number, { signal }) => onThread(n, signal, exits), { concurrency: 2 }),
        toArray(),
      ),
    );
    expect(sums).toEqual([1, 2, 3].map(expected));

    // A thread that never ends is stopped by the pool's signal: take(1) aborts it, and it exits.
    const stuckExits: number[] = [];
    const reasons = new Map<number | 'forever', string | undefined>();
    const first = await lastValueFrom(
      fromPull<number | 'forever'>([1, 'forever']).pipe(
        mergeWorkers(
          (n: number | 'forever', { signal }) => {
            signal.addEventListener('abort', () => reasons.set(n, reasonOf(signal)));
            return onThread(n, signal, stuckExits);
          },
          { concurrency: 2 },
        ),
        take(1),
      ),
    );
    expect(first).toBe(expected(1));
    for (let i = 0; i < 200 && stuckExits.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    // Both threads are gone; the endless one can only have ended by terminate().
    expect(stuckExits).toHaveLength(2);
    expect(reasons.get('forever')).toBe('unsubscribed');
  });
});

describe('FO-13 closing the input from inside a worker', () => {
  it('[FO-13] naive: a worker completes the input Subject to abort; the producer goes on sending into it, unaware', () => {
    const jobs = new Subject<number>();
    const worked: number[] = [];
    jobs
      .pipe(
        mergeMap((n) => {
          if (n < 0)
            jobs.complete(); // the abort hack
          else worked.push(n);
          return [n];
        }),
      )
      .subscribe();
    let sent = 0;
    for (const n of [1, 2, -1, 3, 4, 5]) {
      jobs.next(n); // never throws, never reports
      sent++;
    }
    expect(sent).toBe(6);
    expect(worked).toEqual([1, 2]);
  });

  it("[FO-13] library: a stop result and takeWhile cancel instead; the producer's finally runs, running work is aborted", async () => {
    const work = gate();
    const source = countingIterable(100);
    const signals = new Map<number, AbortSignal>();
    const results = await lastValueFrom(
      fromPull(source.iterable).pipe(
        mergeWorkers(
          async (n: number, { signal }) => {
            signals.set(n, signal);
            if (n === 2) return 'STOP';
            if (n > 2) await until(work.opened, signal);
            return String(n);
          },
          { concurrency: 3 },
        ),
        takeWhile((r) => r !== 'STOP'),
        toArray(),
      ),
    );
    work.open();
    expect(results).toEqual(['0', '1']);
    expect(source.returned()).toBe(true); // the producer was told, by cancellation
    expect(source.pulled()).toBeLessThanOrEqual(6);
    const running = [...signals].filter(([n]) => n > 2).map(([, s]) => reasonOf(s));
    expect(running.length).toBeGreaterThan(0);
    expect(running.every((r) => r === 'unsubscribed')).toBe(true);
  });
});
