import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  BehaviorSubject,
  EMPTY,
  NEVER,
  Observable,
  Subject,
  VirtualTimeScheduler,
  asapScheduler,
  concatMap,
  config,
  finalize,
  firstValueFrom,
  map,
  mergeMap,
  observeOn,
  of,
  range,
  take,
  tap,
  throwError,
  timer,
  toArray,
  type OperatorFunction,
} from 'rxjs';
import fc from 'fast-check';
import {
  CancelledError,
  OverflowError,
  fromPull,
  mergeWorkers,
  orderedMerge,
  workerMonitor,
  type WorkContext,
} from '../index.js';
import { countingIterable, probe, marbles } from './helpers.js';
import { IMPLICIT_QUEUE_ADVICE } from '../lib/queue/bounded-queue.js';

describe('mergeWorkers and orderedMerge: public surface', () => {
  it('are pipeable operators with typed workers and contexts', () => {
    expectTypeOf(mergeWorkers((v: number) => of(String(v)), { concurrency: 2 })).toEqualTypeOf<
      OperatorFunction<number, string>
    >();
    expectTypeOf(orderedMerge((v: number) => Promise.resolve(v > 1), { concurrency: 2 })).toEqualTypeOf<
      OperatorFunction<number, boolean>
    >();
    expectTypeOf<WorkContext>().toHaveProperty('signal').toEqualTypeOf<AbortSignal>();
    expectTypeOf<WorkContext>().toHaveProperty('attempt').toEqualTypeOf<number>();
    expectTypeOf<WorkContext>().toHaveProperty('index').toEqualTypeOf<number>();
  });

  it('fail fast on bad options, naming the operator and the parameter', () => {
    const work = (v: number) => of(v);
    const cases: [() => unknown, ErrorConstructor, RegExp][] = [
      [() => mergeWorkers(work, { concurrency: 0 }), RangeError, /mergeWorkers: 'concurrency' must be .*got 0/],
      [() => mergeWorkers(work, { concurrency: -2 }), RangeError, /'concurrency'.*got -2/],
      [() => mergeWorkers(work, { concurrency: NaN }), RangeError, /'concurrency'.*got NaN/],
      [() => mergeWorkers(work, { concurrency: 1.5 }), RangeError, /'concurrency'.*got 1.5/],
      [() => mergeWorkers(work, { concurrency: Infinity }), RangeError, /'concurrency'.*got Infinity/],
      [() => mergeWorkers(work, { concurrency: '4' as never }), TypeError, /'concurrency'.*got "4"/],
      [() => mergeWorkers(work, undefined as never), TypeError, /mergeWorkers: 'options' must be an options object/],
      [() => mergeWorkers(42 as never, { concurrency: 1 }), TypeError, /mergeWorkers: 'work' must be a function/],
      [() => mergeWorkers(work, { concurrency: 1, errors: 'ignore' as never }), TypeError, /'errors'/],
      [() => mergeWorkers(work, { concurrency: 1, overflow: 'block' as never }), TypeError, /'overflow'/],
      [() => mergeWorkers(work, { concurrency: 1, capacity: 0 }), RangeError, /'capacity'.*got 0/],
      [() => mergeWorkers(work, { concurrency: 1, retry: { count: 0 } }), RangeError, /'retry.count'/],
      [() => mergeWorkers(work, { concurrency: 1, retry: { count: 1, delay: -1 } }), RangeError, /'retry.delay'/],
      [() => mergeWorkers(work, { concurrency: 1, retry: { count: 1, jitter: 2 } }), RangeError, /'retry.jitter'/],
      [() => mergeWorkers(work, { concurrency: 1, onError: 1 as never }), TypeError, /'onError' must be a function/],
      [() => mergeWorkers(work, { concurrency: 1, scheduler: {} as never }), TypeError, /'scheduler'/],
      [() => mergeWorkers(work, { concurrency: 1, monitor: {} as never }), TypeError, /'monitor'/],
      [
        () => orderedMerge(work, { concurrency: 4, window: 2 }),
        RangeError,
        /orderedMerge: 'window' must be .*>= concurrency/,
      ],
      [() => orderedMerge(work, { concurrency: 4, window: 0 }), RangeError, /orderedMerge: 'window'/],
    ];
    for (const [make, type, message] of cases) {
      expect(make).toThrow(type);
      expect(make).toThrow(message);
    }
  });

  it('a worker that returns something that is not an ObservableInput fails with a TypeError naming the parameter', async () => {
    const run = firstValueFrom(
      fromPull([1, 2]).pipe(
        mergeWorkers(() => 42 as never, { concurrency: 1 }),
        toArray(),
      ),
    );
    await expect(run).rejects.toThrow(TypeError);
    await expect(run).rejects.toThrow(
      /mergeWorkers: 'work' must return an ObservableInput.*value #0, but it returned 42/,
    );
  });
});

describe('mergeWorkers: bounded by its concurrency', () => {
  it('with a synchronous burst of 100,000 values and concurrency 4 never holds more than 4 values', async () => {
    const src = countingIterable(100_000);
    let active = 0;
    let maxActive = 0;
    let maxHeld = 0;
    let done = 0;
    const results = await firstValueFrom(
      fromPull(src.iterable).pipe(
        mergeWorkers(
          async (v: number) => {
            active++;
            maxActive = Math.max(maxActive, active);
            maxHeld = Math.max(maxHeld, src.pulled() - done);
            await Promise.resolve();
            active--;
            done++;
            return v;
          },
          { concurrency: 4 },
        ),
        toArray(),
      ),
    );
    expect(results).toHaveLength(100_000);
    expect(maxActive).toBe(4);
    expect(maxHeld).toBeLessThanOrEqual(4);
  });

  it('runs 100,000 synchronous inners without stack overflow (rxjs #3609)', () => {
    let count = 0;
    fromPull(countingIterable(100_000).iterable)
      .pipe(mergeWorkers((v: number) => of(v), { concurrency: 4 }))
      .subscribe(() => count++);
    expect(count).toBe(100_000);
    let pushed = 0;
    range(0, 100_000)
      .pipe(mergeWorkers((v: number) => of(v), { concurrency: 4 }))
      .subscribe(() => pushed++);
    expect(pushed).toBe(100_000);
  });

  it('absorbs a push source in a bounded queue; the default policy errors loudly instead of growing', () => {
    let error: unknown;
    const monitor = workerMonitor();
    marbles(({ cold, expectObservable }) => {
      const job = cold('-----(x|)');
      const out = cold('abcdefgh|').pipe(mergeWorkers(() => job, { concurrency: 2, capacity: 3, monitor }));
      // a and b run; c, d and e wait in the queue; f does not fit.
      expectObservable(out).toBe(
        '-----#',
        undefined,
        new OverflowError('mergeWorkers', 3, 'error', undefined, {
          advice: IMPLICIT_QUEUE_ADVICE('mergeWorkers', 3, false),
        }),
      );
    });
    void error;
    expect(monitor.snapshot()).toMatchObject({ inFlight: 0, completed: 0, discarded: 4 });
  });

  it('drop-oldest on a push source keeps the newest values and counts the drops', () => {
    const monitor = workerMonitor();
    const dropped: string[] = [];
    marbles(({ cold, expectObservable }) => {
      const out = cold('abcdef|').pipe(
        mergeWorkers((v: string) => cold('----(x|)').pipe(map(() => v)), {
          concurrency: 1,
          capacity: 2,
          overflow: 'drop-oldest',
          onDrop: (v) => dropped.push(v),
          monitor,
        }),
      );
      expectObservable(out).toBe('----a---d---e---(f|)');
    });
    expect(dropped).toEqual(['b', 'c']);
    expect(monitor.snapshot()).toMatchObject({ dropped: 2, completed: 4, queued: 0, inFlight: 0 });
  });

  it('holds a slot until the inner completes, not when it is subscribed (BP-12)', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const job = cold('x---|');
      const out = cold('abc|').pipe(mergeWorkers(() => job, { concurrency: 1 }));
      expectObservable(out).toBe('x---x---x---|');
      expectSubscriptions(job.subscriptions).toBe(['^---!', '----^---!', '--------^---!']);
    });
  });

  it('completes only after the source completed and every accepted value was worked', () => {
    marbles(({ cold, expectObservable }) => {
      const out = cold('ab|').pipe(
        mergeWorkers((v: string) => cold('------(x|)').pipe(map(() => v)), { concurrency: 2 }),
      );
      expectObservable(out).toBe('------a(b|)');
    });
  });
});

describe('mergeWorkers: canonical cases', () => {
  it('never: no output, and the source stays subscribed', () => {
    marbles(({ expectObservable }) => {
      expectObservable(NEVER.pipe(mergeWorkers(() => of(1), { concurrency: 2 }))).toBe('');
    });
  });

  it('empty: completes at once without calling the worker', () => {
    let calls = 0;
    marbles(({ expectObservable }) => {
      expectObservable(
        EMPTY.pipe(
          mergeWorkers(
            () => {
              calls++;
              return of(1);
            },
            { concurrency: 2 },
          ),
        ),
      ).toBe('|');
    });
    expect(calls).toBe(0);
  });

  it('a source error is delivered at once and aborts running work with reason source-failed', () => {
    const signals: AbortSignal[] = [];
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const job = cold('-----(x|)');
      const out = cold('a-#').pipe(
        mergeWorkers(
          (_v, { signal }) => {
            signals.push(signal);
            return job;
          },
          { concurrency: 2 },
        ),
      );
      expectObservable(out).toBe('--#');
      expectSubscriptions(job.subscriptions).toBe('^-!');
    });
    expect(signals[0]!.aborted).toBe(true);
    expect((signals[0]!.reason as CancelledError).reason).toBe('source-failed');
  });

  it('never-ending inners with early unsubscribe: every inner and the source are released', () => {
    marbles(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-d-');
      const job = cold('-x--');
      const out = source.pipe(mergeWorkers(() => job, { concurrency: 2 }));
      expectObservable(out, '^------!').toBe('--x-x--');
      expectSubscriptions(source.subscriptions).toBe('^------!');
      expectSubscriptions(job.subscriptions).toBe(['-^-----!', '---^---!']);
    });
  });

  it('unsubscription chains: an unsubscribe further down releases everything upstream', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('ab-c-');
      const job = cold('--x|');
      const out = source.pipe(
        mergeWorkers(() => job, { concurrency: 1 }),
        map((x) => x),
        mergeWorkers((x: string) => of(x), { concurrency: 1 }),
        take(2),
      );
      expectObservable(out).toBe('--x--(x|)');
      expectSubscriptions(source.subscriptions).toBe('^----!');
      expectSubscriptions(job.subscriptions).toBe(['^--!', '---^-!']);
    });
  });

  it('a synchronous endless source is stopped by take', () => {
    const src = countingIterable();
    const out: number[] = [];
    fromPull(src.iterable)
      .pipe(
        mergeWorkers((v: number) => of(v * 2), { concurrency: 3 }),
        take(5),
      )
      .subscribe((v) => out.push(v));
    expect(out).toEqual([0, 2, 4, 6, 8]);
    expect(src.returned()).toBe(true);
    expect(src.pulled()).toBeLessThanOrEqual(5 + 3);
  });

  it('a worker that throws synchronously fails the stream (fail-fast) or is reported (continue)', () => {
    const boom = new Error('boom');
    marbles(({ cold, expectObservable }) => {
      const work = (v: string) => {
        if (v === 'b') throw boom;
        return of(v);
      };
      expectObservable(cold('abc|').pipe(mergeWorkers(work, { concurrency: 1 }))).toBe('a#', undefined, boom);
      const reported: unknown[] = [];
      expectObservable(
        cold('abc|').pipe(
          mergeWorkers(work, { concurrency: 1, errors: 'continue', onError: (e, v) => reported.push([e, v]) }),
        ),
      ).toBe('a-c|');
      void reported;
    });
  });

  it('an onError callback that throws fails the stream with what it threw', () => {
    const thrown = new Error('callback');
    marbles(({ cold, expectObservable }) => {
      expectObservable(
        cold('ab|').pipe(
          mergeWorkers((v: string) => (v === 'a' ? throwError(() => new Error('x')) : of(v)), {
            concurrency: 1,
            errors: 'continue',
            onError: () => {
              throw thrown;
            },
          }),
        ),
      ).toBe('#', undefined, thrown);
    });
  });

  it("finalize order is the same as mergeMap's, on completion and on unsubscribe", () => {
    const orderOf = (op: (inner: () => Observable<string>) => OperatorFunction<string, string>, unsub?: string) => {
      const order: string[] = [];
      marbles(({ cold, expectObservable }) => {
        const out = cold('a|').pipe(
          finalize(() => order.push('source')),
          op(() => cold('-x--|').pipe(finalize(() => order.push('inner')))),
          finalize(() => order.push('output')),
        );
        expectObservable(out, unsub).toBe(unsub === undefined ? '-x--|' : '-x');
      });
      return order;
    };
    const ours = (inner: () => Observable<string>) => mergeWorkers(inner, { concurrency: 1 });
    const theirs = (inner: () => Observable<string>) => mergeMap(inner, 1);
    expect(orderOf(ours)).toEqual(orderOf(theirs));
    expect(orderOf(ours)).toEqual(['source', 'inner', 'output']);
    // On unsubscribe mergeMap finalizes the output before its inners (its inners hang off the
    // downstream subscriber); ours releases upstream first, then the output.
    expect(orderOf(ours, '^-!')).toEqual(['source', 'inner', 'output']);
  });

  it('reentrancy: a subscriber that pushes into the source from next is served in order', () => {
    const subject = new Subject<number>();
    const out: number[] = [];
    subject.pipe(mergeWorkers((v: number) => of(v), { concurrency: 1 })).subscribe((v) => {
      out.push(v);
      if (v < 5) subject.next(v + 1);
    });
    subject.next(0);
    expect(out).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('mergeWorkers: errors, retries and cancellation', () => {
  it('the first error wins, not the last', () => {
    const first = new Error('first');
    const second = new Error('second');
    marbles(({ cold, expectObservable }) => {
      const out = cold('ab|').pipe(
        mergeWorkers((v: string) => (v === 'a' ? cold('--#', undefined, first) : cold('-#', undefined, second)), {
          concurrency: 2,
        }),
      );
      // b starts at frame 1 and fails at 2; a fails at 2 as well, but b's error came first.
      expectObservable(out).toBe('--#', undefined, first);
    });
  });

  it('under errors: continue, a failed value frees its slot and the pool keeps its full size', () => {
    const failedValues: string[] = [];
    const monitor = workerMonitor();
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const ok = cold('--(x|)');
      const bad = cold('-#');
      const out = cold('abcd|').pipe(
        mergeWorkers((v: string) => (v === 'a' ? bad : ok.pipe(map(() => v))), {
          concurrency: 2,
          errors: 'continue',
          onError: (_e, v) => failedValues.push(v),
          monitor,
        }),
      );
      // a fails at 1 and frees its slot at once: c starts at 2 while b still runs.
      expectObservable(out).toBe('---bc(d|)');
      expectSubscriptions(bad.subscriptions).toBe('^!');
      expectSubscriptions(ok.subscriptions).toBe(['-^-!', '--^-!', '---^-!']);
    });
    expect(failedValues).toEqual(['a']);
    expect(monitor.snapshot()).toMatchObject({ failed: 1, completed: 3, inFlight: 0 });
  });

  it('retries with capped exponential backoff on the scheduler, then succeeds; the slot is held meanwhile', () => {
    const attempts: [number, number][] = [];
    marbles(({ cold, expectObservable }, scheduler) => {
      const out = cold('ab|').pipe(
        mergeWorkers(
          (v: string, { attempt }) => {
            attempts.push([scheduler.now(), attempt]);
            return v === 'a' && attempt < 4 ? throwError(() => new Error('flaky')) : of(`${v}${attempt}`);
          },
          { concurrency: 1, retry: { count: 3, delay: 10, maxDelay: 25, jitter: 0 }, scheduler },
        ),
      );
      // a fails at 0, 10, 30 (10, then 20, then the cap of 25 instead of 40) and succeeds at 55.
      expectObservable(out).toBe('55ms (a4 b1|)'.replace('a4 b1', 'xy'), { x: 'a4', y: 'b1' });
    });
    expect(attempts).toEqual([
      [0, 1],
      [10, 2],
      [30, 3],
      [55, 4],
      [55, 1],
    ]);
  });

  it('gives up after the retry budget and reports the last error', () => {
    const err = new Error('always');
    marbles(({ cold, expectObservable }, scheduler) => {
      const out = cold('a|').pipe(
        mergeWorkers(() => throwError(() => err), {
          concurrency: 1,
          retry: { count: 2, delay: 5, jitter: 0 },
          scheduler,
        }),
      );
      expectObservable(out).toBe('15ms #', undefined, err);
    });
  });

  it('jitter draws part of each backoff from the random source', () => {
    const times: number[] = [];
    marbles(({ cold, expectObservable }, scheduler) => {
      const out = cold('a|').pipe(
        mergeWorkers(
          (_v, { attempt }) => {
            times.push(scheduler.now());
            return attempt < 3 ? throwError(() => new Error('x')) : of('ok');
          },
          { concurrency: 1, retry: { count: 2, delay: 100, jitter: 0.5, random: () => 0 }, scheduler },
        ),
      );
      expectObservable(out).toBe('150ms (o|)', { o: 'ok' });
    });
    expect(times).toEqual([0, 50, 150]);
  });

  it('never retries after cancellation, and leaves no timer on the scheduler', () => {
    let attempts = 0;
    let leftAfterUnsubscribe = -1;
    marbles(({ cold, expectObservable }, scheduler) => {
      const out = cold('a|').pipe(
        mergeWorkers(
          () => {
            attempts++;
            return throwError(() => new Error('x'));
          },
          { concurrency: 1, retry: { count: 5, delay: 10, jitter: 0 }, scheduler },
        ),
      );
      expectObservable(out, '^--!').toBe('');
      // After the unsubscribe at frame 3 and before the backoff would end at frame 10, nothing
      // may be left to run: a timer that merely finds the pool finished would still be a leak.
      scheduler.schedule(() => (leftAfterUnsubscribe = scheduler.actions.length), 4);
    });
    expect(attempts).toBe(1);
    expect(leftAfterUnsubscribe).toBe(0);
  });

  it('take(2) after the pool aborts the rest: their signals carry the reason', async () => {
    const signals: AbortSignal[] = [];
    const out = await firstValueFrom(
      fromPull([1, 2, 3, 4, 5]).pipe(
        mergeWorkers(
          (v: number, { signal }) => {
            signals.push(signal);
            return new Promise<number>((resolve) => setTimeout(() => resolve(v), v === 1 || v === 2 ? 1 : 50));
          },
          { concurrency: 4 },
        ),
        take(2),
        toArray(),
      ),
    );
    expect(out).toEqual([1, 2]);
    // 1 to 4 start at once; 5 takes the slot 1 frees; 3, 4 and 5 are still running at take(2).
    expect(signals).toHaveLength(5);
    // 1 completed; 2's promise had resolved, and its result was being delivered when take(2)
    // ended: its work was over, so its signal is left alone.
    expect(signals[0]!.aborted).toBe(false);
    expect(signals[1]!.aborted).toBe(false);
    for (const s of signals.slice(2)) {
      expect(s.aborted).toBe(true);
      expect(s.reason).toBeInstanceOf(CancelledError);
      expect((s.reason as CancelledError).reason).toBe('unsubscribed');
      expect(String((s.reason as Error).message)).toMatch(
        /mergeWorkers: work cancelled because the subscriber unsubscribed/,
      );
    }
  });
});

describe('mergeWorkers: Promise workers', () => {
  it('a rejected Promise fails the stream with its reason, and a resolved one completes its value', async () => {
    const boom = new Error('boom');
    const work = (v: number): Promise<number> => (v === 3 ? Promise.reject(boom) : Promise.resolve(v * 10));
    await expect(
      firstValueFrom(fromPull([1, 2]).pipe(mergeWorkers(work, { concurrency: 2 }), toArray())),
    ).resolves.toEqual([10, 20]);
    await expect(
      firstValueFrom(fromPull([1, 2, 3]).pipe(mergeWorkers(work, { concurrency: 1 }), toArray())),
    ).rejects.toBe(boom);
  });

  it("a worker's context shows its index, attempt and signal, and none of the pool's bookkeeping", async () => {
    const seen: string[] = [];
    await firstValueFrom(
      fromPull(['a', 'b']).pipe(
        mergeWorkers(
          (v: string, context) => {
            // Logging or serializing a context must work: the pool's linked tasks are not in it.
            seen.push(JSON.stringify({ ...context, index: context.index }));
            expect(Object.keys(context)).toEqual(['attempt']);
            expect(context.signal).toBeInstanceOf(AbortSignal);
            return Promise.resolve(v);
          },
          { concurrency: 2 },
        ),
        toArray(),
      ),
    );
    expect(seen).toEqual(['{"attempt":1,"index":0}', '{"attempt":1,"index":1}']);
  });

  // The pool reuses a completed value's task for a later value (lib/pool/engine.ts, `recycle`):
  // nothing a worker kept may show the reuse, as a reused batch array would (PP-08).
  it("[PP-08] a context kept past its value keeps its own index, and its signal is never a later value's", () => {
    const kept: WorkContext[] = [];
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const job = cold('--(x|)');
      const out = cold('abc|').pipe(
        mergeWorkers(
          (v: string, context) => {
            kept.push(context);
            if (v === 'c') void context.signal; // only the last value's signal is taken while it runs
            return job.pipe(map(() => v));
          },
          { concurrency: 1 },
        ),
      );
      expectObservable(out, '^----!').toBe('--a-b-');
      expectSubscriptions(job.subscriptions).toBe(['^-!', '--^-!', '----^!']);
    });
    expect(kept.map((context) => [context.index, context.attempt])).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
    // Asked for after their values completed (and their task went on to the next value): their own.
    expect(kept[0]!.signal.aborted).toBe(false);
    expect(kept[1]!.signal.aborted).toBe(false);
    expect(kept[2]!.signal.aborted).toBe(true);
    expect((kept[2]!.signal.reason as CancelledError).reason).toBe('unsubscribed');
    expect(new Set(kept.map((context) => context.signal)).size).toBe(3);
  });

  it("[PP-08] an earlier attempt's context, read during the retry, still has the value's signal", () => {
    const kept: WorkContext[] = [];
    let late: AbortSignal | undefined;
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const failing = cold('-#');
      const slow = cold('-----x|');
      const out = cold('a|').pipe(
        mergeWorkers(
          (_v: string, context) => {
            kept.push(context);
            if (context.attempt === 1) return failing;
            late = kept[0]!.signal; // the first attempt's context, asked only now
            return slow;
          },
          { concurrency: 1, retry: { count: 1, delay: 1, jitter: 0 } },
        ),
      );
      expectObservable(out, '^---!').toBe('----');
      expectSubscriptions(failing.subscriptions).toBe('^!');
      expectSubscriptions(slow.subscriptions).toBe('--^-!');
    });
    // One value, one signal for its attempts: cancelling the value aborts both contexts'.
    expect(late).toBe(kept[1]!.signal);
    expect(late!.aborted).toBe(true);
  });

  it('[PP-08] a context read while its reused task waits in a key lane gets a signal of its own', async () => {
    type V = { name: string; k: string };
    const contexts: Record<string, WorkContext> = {};
    const ready: Record<string, () => void> = {};
    const gate = (name: string): Promise<void> => new Promise((resolve) => (ready[name] = resolve));
    const ticks = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
    const yGate = gate('Y');
    const bGate = gate('B');
    const sub = fromPull<V>([
      { name: 'A', k: 'a' },
      { name: 'Y', k: 'b' },
      { name: 'B', k: 'b' }, // takes A's task once A completes, and waits behind Y
    ])
      .pipe(
        mergeWorkers(
          async (v: V, context) => {
            contexts[v.name] = context;
            if (v.name === 'Y') await yGate;
            if (v.name === 'B') {
              void context.signal;
              await bGate;
            }
            return v.name;
          },
          { concurrency: 2, key: (v) => v.k },
        ),
      )
      .subscribe();
    await ticks(); // A is done; B waits in lane b
    const late = contexts['A']!.signal; // A's context asks only now
    ready['Y']!();
    await ticks(); // B runs
    expect(contexts['B']).toBeDefined();
    expect(late).not.toBe(contexts['B']!.signal);
    sub.unsubscribe(); // cancels B only
    expect(contexts['B']!.signal.aborted).toBe(true);
    expect(late.aborted).toBe(false);
  });

  it('a retry whose inner completes at once arms no timeout for the value that reuses its task', () => {
    const scheduler = new VirtualTimeScheduler();
    let doneAt = -1;
    fromPull([0, 1])
      .pipe(
        mergeWorkers(
          (v: number, context) =>
            v === 0
              ? context.attempt === 1
                ? throwError(() => new Error('first attempt'))
                : of(v)
              : timer(10, scheduler).pipe(map(() => v)),
          { concurrency: 1, timeout: 1000, retry: { count: 1, delay: 5, jitter: 0 }, scheduler },
        ),
      )
      .subscribe({ complete: () => (doneAt = scheduler.now()) });
    scheduler.flush();
    // A second timer armed for value 1 (its handle lost) would still run at t = 1005.
    expect(doneAt).toBe(15);
    expect(scheduler.now()).toBe(15);
  });

  it('[PP-08] promise work: each kept context reads its own index, and results and counts are unchanged', async () => {
    const kept: WorkContext[] = [];
    const monitor = workerMonitor();
    const settled: number[] = [];
    const sub = monitor.settled.subscribe((s) => settled.push(s.value as number));
    const out = await firstValueFrom(
      fromPull([10, 11, 12, 13, 14]).pipe(
        mergeWorkers(
          (v: number, context) => {
            kept.push(context);
            return Promise.resolve(v * 2);
          },
          { concurrency: 2, monitor },
        ),
        toArray(),
      ),
    );
    sub.unsubscribe();
    expect(out).toEqual([20, 22, 24, 26, 28]);
    expect(kept.map((context) => context.index)).toEqual([0, 1, 2, 3, 4]);
    expect(settled).toEqual([10, 11, 12, 13, 14]);
    expect(monitor.snapshot()).toMatchObject({ received: 5, completed: 5, inFlight: 0, held: 0 });
  });

  it('a consumer that throws on one result: reported, and the pool goes on with the rest', () => {
    const reported: unknown[] = [];
    const previous = config.onUnhandledError;
    config.onUnhandledError = (err) => reported.push(err);
    const thrown = new Error('consumer threw');
    return (async () => {
      try {
        const p = probe(
          fromPull([1, 2, 3]).pipe(mergeWorkers((v: number) => Promise.resolve(v), { concurrency: 1 })),
          (v) => {
            if (v === 1) throw thrown;
          },
          10,
        );
        await new Promise((resolve) => setTimeout(resolve, 10));
        // The slot of value 1 was freed although its delivery threw.
        expect(p.values).toEqual([1, 2, 3]);
        expect(p.completions).toBe(1);
        expect(reported).toEqual([thrown]);
      } finally {
        config.onUnhandledError = previous;
      }
    })();
  });

  it('a thenable that is not a native Promise is still followed (through from)', async () => {
    const thenable = (v: number): PromiseLike<number> => ({
      then: (resolve) => Promise.resolve(v + 1).then(resolve),
    });
    const out = await firstValueFrom(
      fromPull([1, 2, 3]).pipe(
        mergeWorkers((v: number) => thenable(v) as Promise<number>, { concurrency: 2 }),
        toArray(),
      ),
    );
    expect(out.sort()).toEqual([2, 3, 4]);
  });

  it('a consumer that throws while taking a resolved result: reported to RxJS, never an unhandled rejection', async () => {
    const reported: unknown[] = [];
    const previous = config.onUnhandledError;
    config.onUnhandledError = (err) => reported.push(err);
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    try {
      const thrown = new Error('consumer threw');
      probe(
        fromPull([1]).pipe(mergeWorkers((v: number) => Promise.resolve(v), { concurrency: 1 })),
        () => {
          throw thrown;
        },
        1,
      );
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(reported).toEqual([thrown]);
      expect(rejections).toEqual([]);
    } finally {
      config.onUnhandledError = previous;
      process.off('unhandledRejection', onRejection);
    }
  });

  it('a Promise that settles after the subscriber left is ignored: no value, no error, its signal aborted', async () => {
    let resolveLate!: (v: number) => void;
    let signal!: AbortSignal;
    const p = probe(
      fromPull([1]).pipe(
        mergeWorkers(
          (_v: number, context) => {
            signal = context.signal;
            return new Promise<number>((resolve) => (resolveLate = resolve));
          },
          { concurrency: 1 },
        ),
      ),
      undefined,
      1,
    );
    p.cancel();
    expect(signal.aborted).toBe(true);
    resolveLate(1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(p.values).toEqual([]);
    expect(p.errors).toEqual([]);
    expect(p.completions).toBe(0);
  });
});

describe('mergeWorkers and orderedMerge: re-entrancy and RxJS configuration', () => {
  for (const [label, operator] of [
    ['mergeWorkers', mergeWorkers],
    ['orderedMerge', orderedMerge],
  ] as const) {
    it(`${label}: a subscriber that pushes the next value from next keeps a flat stack at concurrency 2000`, () => {
      // The first value arrives while the pool is idle and starts at once; every later one is
      // pushed from inside a result's delivery. The deepest stack seen must not grow with the
      // concurrency (a pool that started each pushed value in place would nest once per slot).
      const n = 20_000;
      const run = (concurrency: number): { out: number[]; errored: unknown; depth: number } => {
        const source = new Subject<number>();
        const out: number[] = [];
        let errored: unknown;
        let depth = 0;
        source.pipe(operator((v: number) => of(v), { concurrency, capacity: n })).subscribe({
          next: (v) => {
            out.push(v);
            if (out.length % 97 === 1) depth = Math.max(depth, new Error().stack!.split('\n').length);
            if (out.length < n) source.next(out.length);
            else source.complete();
          },
          error: (err: unknown) => (errored = err),
        });
        source.next(0);
        return { out, errored, depth };
      };
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = Infinity;
      try {
        const narrow = run(20);
        const wide = run(2000);
        expect(wide.errored).toBeUndefined();
        expect(wide.out).toHaveLength(n);
        expect(wide.out.slice(0, 3)).toEqual([0, 1, 2]);
        expect(narrow.out).toHaveLength(n);
        expect(wide.depth).toBeLessThanOrEqual(narrow.depth + 5);
        expect(wide.depth).toBeLessThan(200);
      } finally {
        Error.stackTraceLimit = limit;
      }
    });

    it(`${label}: works under RxJS's deprecated useDeprecatedNextContext (observers called on a copy)`, async () => {
      // The flag acts when a subscriber is made; it is on only while subscribing, so a failure
      // here cannot leak it into other tests.
      const collect = (work: (v: number) => Observable<number>, concurrency: number): Promise<number[]> => {
        const flags = config as { useDeprecatedNextContext: boolean };
        const previous = flags.useDeprecatedNextContext;
        flags.useDeprecatedNextContext = true;
        try {
          return firstValueFrom(fromPull([1, 2, 3]).pipe(operator(work, { concurrency }), toArray()));
        } finally {
          flags.useDeprecatedNextContext = previous;
        }
      };
      expect(await collect((v) => of(v), 1)).toEqual([1, 2, 3]);
      // Asynchronous inners: the first two are subscribed, and must complete, under the flag.
      const later = await collect((v) => of(v).pipe(observeOn(asapScheduler)), 2);
      expect([...later].sort()).toEqual([1, 2, 3]);
    });
  }
});

describe('mergeWorkers: a worker that pushes into its own source (a crawler)', () => {
  // The first value is pushed (at frame 1) while the pool is idle and starts in place; its worker
  // pushes the next value before returning its inner. Whatever that value does to the pool must
  // wait until the first inner is subscribed: else the inner is subscribed on a pool that has
  // already ended, and nobody ever unsubscribes it.
  for (const ending of ['take(1) downstream', 'a sibling failing fast'] as const) {
    it(`[ML-10] library: the first inner is released when the value its worker pushed ends the pool (${ending})`, () => {
      marbles(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const source = new Subject<number>();
        const first = cold<string>('----a|');
        hot('-t').subscribe(() => source.next(0));
        const out = source.pipe(
          mergeWorkers(
            (v: number) => {
              if (v === 0) {
                source.next(1);
                return first;
              }
              if (ending === 'a sibling failing fast') throw new Error('boom');
              return of('x');
            },
            { concurrency: 2 },
          ),
          take(1),
        );
        if (ending === 'take(1) downstream') expectObservable(out).toBe('-(x|)');
        else expectObservable(out).toBe('-#', undefined, new Error('boom'));
        expectSubscriptions(first.subscriptions).toBe('-(^!)');
      });
    });
  }

  it('[ML-10] library: a retry whose worker ends the pool subscribes no inner, and its value is counted once', () => {
    const m = workerMonitor();
    marbles(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = new Subject<number>();
      const never = cold<number>('-');
      hot('-t').subscribe(() => source.next(0));
      const out = source.pipe(
        mergeWorkers(
          (v: number, { attempt }) => {
            if (v === 0 && attempt === 1) throw new Error('first');
            if (v === 0) {
              source.next(1); // fails fast, from inside the retry's worker call (frame 4)
              return never;
            }
            throw new Error('boom');
          },
          {
            concurrency: 2,
            monitor: m,
            retry: { count: 1, delay: 3, jitter: 0, shouldRetry: (e) => (e as Error).message === 'first' },
          },
        ),
      );
      expectObservable(out).toBe('----#', undefined, new Error('boom'));
      expectSubscriptions(never.subscriptions).toBe([]);
    });
    expect(m.snapshot()).toMatchObject({ received: 2, failed: 1, aborted: 1, retried: 1, queued: 0, inFlight: 0 });
  });

  it("keeps a synchronous inner's results together when its first result pushes a value", () => {
    marbles(({ hot, expectObservable }) => {
      const source = new Subject<number>();
      hot('-t').subscribe(() => source.next(0));
      const out = source.pipe(
        mergeWorkers((v: number) => (v === 0 ? of('a', 'b', 'c') : of('x')), { concurrency: 2 }),
        tap((r) => {
          if (r === 'a') source.next(1);
        }),
      );
      expectObservable(out).toBe('-(abcx)');
    });
  });
});

describe('mergeWorkers: concurrency at run time', () => {
  it('raising it starts work at once; lowering it lets running work finish; it never goes below 1', () => {
    const starts: string[] = [];
    const out: string[] = [];
    marbles(({ cold, hot }, scheduler) => {
      const limit = hot<number>('a----b---c', { a: 1, b: 3, c: 0 });
      cold('abcdefg|')
        .pipe(
          mergeWorkers(
            (v: string) => {
              starts.push(`${scheduler.now()}${v}`);
              return cold('----(x|)').pipe(map(() => v));
            },
            { concurrency: limit },
          ),
        )
        .subscribe({
          next: (v) => out.push(`${scheduler.now()}${v}`),
          complete: () => out.push(`${scheduler.now()}|`),
        });
    });
    // 1 at first; raised to 3 at frame 5 (c and d start at once); at 9 "0" is floored to 1, so
    // e (started at 8 under 3) runs alone and f and g follow one at a time.
    expect(starts).toEqual(['0a', '4b', '5c', '5d', '8e', '12f', '16g']);
    expect(out).toEqual(['4a', '8b', '9c', '9d', '12e', '16f', '20g', '20|']);
  });

  it('no work starts before the concurrency Observable emits; NaN fails with a RangeError', () => {
    marbles(({ cold, hot, expectObservable }) => {
      const limit = hot<number>('---a', { a: 2 });
      expectObservable(cold('ab|').pipe(mergeWorkers((v: string) => of(v), { concurrency: limit }))).toBe('---(ab|)');
      const bad = hot<number>('-a', { a: NaN });
      expectObservable(cold('a-b|').pipe(mergeWorkers((v: string) => of(v), { concurrency: bad }))).toBe(
        '-#',
        undefined,
        new RangeError("mergeWorkers: 'concurrency' must be an Observable of finite numbers, got NaN"),
      );
    });
  });

  it('a concurrency Observable whose first value, given at subscription, is bad is released with the failed pool', () => {
    // A BehaviorSubject hands its value over inside subscribe(), before the pool holds the
    // subscription: the pool must still let go of it, and never subscribe to the source.
    const bad = new BehaviorSubject<number>(NaN);
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b|');
      expectObservable(source.pipe(mergeWorkers((v: string) => of(v), { concurrency: bad }))).toBe(
        '#',
        undefined,
        new RangeError("mergeWorkers: 'concurrency' must be an Observable of finite numbers, got NaN"),
      );
      expectSubscriptions(source.subscriptions).toBe([]);
    });
    expect(bad.observed).toBe(false);
  });

  it('keeps the last concurrency after its Observable completes; one that completes empty is an error', async () => {
    const out = await firstValueFrom(
      fromPull([1, 2, 3]).pipe(
        mergeWorkers(async (v: number) => v, { concurrency: of(2) }),
        toArray(),
      ),
    );
    expect(out.sort()).toEqual([1, 2, 3]);
    const completed = new BehaviorSubject(2);
    completed.complete(); // a completed BehaviorSubject replays nothing
    await expect(
      firstValueFrom(fromPull([1]).pipe(mergeWorkers(async (v: number) => v, { concurrency: completed }))),
    ).rejects.toThrow(/mergeWorkers: 'concurrency' must be an Observable that emits a number/);
  });
});

describe('mergeWorkers: backpressure from a demand-aware consumer', () => {
  it('takes no new values while results wait for demand', () => {
    const src = countingIterable(100);
    const p = probe(fromPull(src.iterable).pipe(mergeWorkers((v: number) => of(v), { concurrency: 2 })));
    p.request(1);
    expect(p.values).toEqual([0]);
    // Two results may wait (the concurrency) plus what is running; nothing more is pulled.
    expect(src.pulled()).toBeLessThanOrEqual(1 + 2 + 2);
    const before = src.pulled();
    p.request(3);
    expect(p.values).toEqual([0, 1, 2, 3]);
    expect(src.pulled() - p.values.length).toBeLessThanOrEqual(4);
    expect(before).toBeLessThan(10);
  });
});

describe('mergeWorkers: results held for a consumer that is not asking are bounded', () => {
  it('an inner that emits more than resultCapacity results while nobody asks fails with an OverflowError', () => {
    // One result is asked for; three may wait; the fifth does not fit.
    const p = probe(
      fromPull([1]).pipe(mergeWorkers(() => range(0, 10), { concurrency: 1, resultCapacity: 3 })),
      undefined,
      1,
    );
    expect(p.values).toEqual([0]);
    expect(p.errors).toHaveLength(1);
    expect(p.errors[0]).toBeInstanceOf(OverflowError);
    expect((p.errors[0] as Error).message).toBe(
      "mergeWorkers: queue overflow (capacity 3 results, overflow policy 'error')",
    );
  });

  it('a plain subscriber takes every result as it comes, whatever resultCapacity is', async () => {
    const out = await firstValueFrom(
      fromPull([1, 2]).pipe(
        mergeWorkers(() => range(0, 10), { concurrency: 2, resultCapacity: 1 }),
        toArray(),
      ),
    );
    expect(out).toHaveLength(20);
  });

  it('validates resultCapacity', () => {
    expect(() => mergeWorkers(() => of(1), { concurrency: 1, resultCapacity: 0 })).toThrow(
      /mergeWorkers: 'resultCapacity' must be a positive integer, got 0/,
    );
  });
});

describe('orderedMerge', () => {
  it('emits in input order with concurrency > 1', async () => {
    const out = await firstValueFrom(
      fromPull([30, 10, 20, 0, 5]).pipe(
        orderedMerge((ms: number) => new Promise<number>((r) => setTimeout(() => r(ms), ms)), { concurrency: 3 }),
        toArray(),
      ),
    );
    expect(out).toEqual([30, 10, 20, 0, 5]);
  });

  it('a slow head is waited for with a bounded window, and others keep working within it', () => {
    const monitor = workerMonitor();
    const starts: string[] = [];
    const out: string[] = [];
    marbles(({ cold }, scheduler) => {
      cold('abcdefgh|')
        .pipe(
          orderedMerge(
            (v: string) => {
              starts.push(`${scheduler.now()}${v}`);
              const s = monitor.snapshot();
              expect(s.inFlight + s.queued).toBeLessThanOrEqual(4);
              return cold(v === 'a' ? '----------(x|)' : '-(x|)').pipe(map(() => v));
            },
            { concurrency: 2, window: 4, monitor },
          ),
        )
        .subscribe({
          next: (v) => out.push(`${scheduler.now()}${v}`),
          complete: () => out.push(`${scheduler.now()}|`),
        });
    });
    // b, c, d finish behind a; the window (4) is full until a is emitted at 10, so e waits.
    expect(starts).toEqual(['0a', '1b', '2c', '3d', '10e', '10f', '11g', '11h']);
    expect(out).toEqual(['10a', '10b', '10c', '10d', '11e', '11f', '12g', '12h', '12|']);
  });

  it('with concurrency 1 behaves like concatMap', () => {
    marbles(({ cold, expectObservable }) => {
      const inner = (v: string) => cold('-x-y|', { x: `${v}1`, y: `${v}2` });
      const expected = cold('ab-c|').pipe(concatMap(inner));
      const actual = cold('ab-c|').pipe(orderedMerge(inner, { concurrency: 1 }));
      expectObservable(actual).toEqual(expected);
    });
  });

  it('on an error, results of later values that had finished are discarded and counted; nothing after the error', () => {
    const monitor = workerMonitor();
    const signals = new Map<string, AbortSignal>();
    const err = new Error('b failed');
    marbles(({ cold, expectObservable }) => {
      const out = cold('abc|').pipe(
        orderedMerge(
          (v: string, { signal }) => {
            signals.set(v, signal);
            if (v === 'a') return cold('------(x|)', { x: 'A' });
            if (v === 'b') return cold('---#', undefined, err);
            return cold('(x|)', { x: 'C' });
          },
          { concurrency: 3, monitor },
        ),
      );
      expectObservable(out).toBe('----#', undefined, err);
    });
    expect(signals.get('a')!.aborted).toBe(true);
    expect(signals.get('c')!.aborted).toBe(false); // c had finished
    // a was running (aborted), b failed, c finished but its result was held behind a (discarded).
    expect(monitor.snapshot()).toMatchObject({
      received: 3,
      failed: 1,
      aborted: 1,
      completed: 0,
      held: 0,
      discarded: 1,
    });
  });

  it('under errors: continue, a failed value is skipped in the order', () => {
    marbles(({ cold, expectObservable }) => {
      const out = cold('abc|').pipe(
        orderedMerge((v: string) => (v === 'b' ? cold('-#') : cold('--(x|)', { x: v })), {
          concurrency: 3,
          errors: 'continue',
          onError: () => {},
        }),
      );
      expectObservable(out).toBe('--a-(c|)');
    });
  });
});

describe('differential properties on random timelines', () => {
  const timeline = fc.record({
    gaps: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 12 }),
    durations: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 12, maxLength: 12 }),
    outputs: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 12, maxLength: 12 }),
    concurrency: fc.integer({ min: 1, max: 4 }),
    tail: fc.integer({ min: 0, max: 4 }),
  });

  function sourceMarbles(gaps: number[], tail: number): { marbles: string; values: Record<string, number> } {
    let marbles = '';
    const values: Record<string, number> = {};
    gaps.forEach((gap, i) => {
      const key = String.fromCharCode(97 + i);
      marbles += '-'.repeat(gap) + key;
      values[key] = i;
    });
    return { marbles: marbles + '-'.repeat(tail) + '|', values };
  }

  function innerMarbles(duration: number, outputs: number): string {
    // `outputs` values spread over `duration` frames, then completion.
    if (outputs === 1) return '-'.repeat(duration) + '(x|)';
    return 'x' + '-'.repeat(duration) + '(x|)';
  }

  it('with a queue large enough never to overflow, mergeWorkers emits exactly what mergeMap(work, n) emits', () => {
    fc.assert(
      fc.property(timeline, ({ gaps, durations, outputs, concurrency, tail }) => {
        marbles(({ cold, expectObservable }) => {
          const src = sourceMarbles(gaps, tail);
          const work = (i: number) => cold(innerMarbles(durations[i]!, outputs[i]!), { x: i });
          const expected = cold(src.marbles, src.values).pipe(mergeMap(work, concurrency));
          const actual = cold(src.marbles, src.values).pipe(mergeWorkers(work, { concurrency, capacity: 100 }));
          expectObservable(actual).toEqual(expected);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('orderedMerge with concurrency 1 emits exactly what concatMap emits', () => {
    fc.assert(
      fc.property(timeline, ({ gaps, durations, outputs, tail }) => {
        marbles(({ cold, expectObservable }) => {
          const src = sourceMarbles(gaps, tail);
          const work = (i: number) => cold(innerMarbles(durations[i]!, outputs[i]!), { x: i });
          const expected = cold(src.marbles, src.values).pipe(concatMap(work));
          const actual = cold(src.marbles, src.values).pipe(orderedMerge(work, { concurrency: 1, capacity: 100 }));
          expectObservable(actual).toEqual(expected);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('orderedMerge with any concurrency emits what mergeWorkers emits, sorted back into input order', () => {
    fc.assert(
      fc.property(timeline, ({ gaps, durations, outputs, concurrency, tail }) => {
        const collect = (op: OperatorFunction<number, number>): number[] => {
          const out: number[] = [];
          marbles(({ cold }, scheduler) => {
            const src = sourceMarbles(gaps, tail);
            cold(src.marbles, src.values)
              .pipe(op)
              .subscribe((v) => out.push(v));
            scheduler.flush();
          });
          return out;
        };
        const work = (i: number): Observable<number> =>
          new Observable<number>((s) => {
            for (let k = 0; k < outputs[i]!; k++) s.next(i);
            s.complete();
          });
        const ordered = collect(orderedMerge(work, { concurrency, capacity: 100 }));
        const unordered = collect(mergeWorkers(work, { concurrency, capacity: 100 }));
        expect(ordered).toEqual([...unordered].sort((a, b) => a - b));
        expect(ordered).toEqual([...ordered].sort((a, b) => a - b));
        void durations;
      }),
      { numRuns: 200 },
    );
  });
});
