import { describe, expect, expectTypeOf, it } from 'vitest';
import { BehaviorSubject, EMPTY, NEVER, Subject, finalize, map, of, pipe, take, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import fc from 'fast-check';
import {
  CancelledError,
  DrainDeadlineError,
  boundedBuffer,
  bufferMonitor,
  channel,
  drainOnComplete,
  fromPull,
  mergeWorkers,
  type DrainReport,
} from '../index.js';
import { pullEvery } from '../marbles/testing.js';
import { marbles, probe } from './helpers.js';

const identity =
  <T>(): OperatorFunction<T, T> =>
  (s) =>
    s;

describe('drainOnComplete', () => {
  it('is a pipeable operator typed by its segment', () => {
    expectTypeOf(
      drainOnComplete(
        map((x: number) => String(x)),
        { deadline: 1 },
      ),
    ).toEqualTypeOf<OperatorFunction<number, string>>();
  });

  it('fails fast on bad options, naming the operator and the parameter', () => {
    const cases: [() => unknown, ErrorConstructor, RegExp][] = [
      [
        () => drainOnComplete(1 as never, { deadline: 1 }),
        TypeError,
        /drainOnComplete: 'segment' must be an OperatorFunction/,
      ],
      [() => drainOnComplete(identity(), undefined as never), TypeError, /'options' must be an options object/],
      [
        () => drainOnComplete(identity(), {} as never),
        TypeError,
        /'deadline' must be a number of milliseconds, got undefined/,
      ],
      [() => drainOnComplete(identity(), { deadline: -1 }), RangeError, /'deadline'.*got -1/],
      [() => drainOnComplete(identity(), { deadline: NaN }), RangeError, /'deadline'.*got NaN/],
      [
        () => drainOnComplete(identity(), { deadline: 1, stop: 5 as never }),
        TypeError,
        /'stop' must be an Observable or an AbortSignal/,
      ],
      [
        () => drainOnComplete(identity(), { deadline: 1, onReport: 'x' as never }),
        TypeError,
        /'onReport' must be a function/,
      ],
    ];
    for (const [make, type, message] of cases) {
      expect(make).toThrow(type);
      expect(make).toThrow(message);
    }
  });

  it('a stop before anything was accepted completes at once', () => {
    const reports: DrainReport[] = [];
    marbles(({ hot, cold, expectObservable, expectSubscriptions }, scheduler) => {
      const source = hot('----a--');
      const out = source.pipe(
        drainOnComplete(
          mergeWorkers((v: string) => cold('--(x|)').pipe(map(() => v)), { concurrency: 1 }),
          {
            stop: hot('-s'),
            deadline: 10,
            scheduler,
            onReport: (r) => reports.push(r),
          },
        ),
      );
      expectObservable(out).toBe('-|');
      expectSubscriptions(source.subscriptions).toBe('^!');
    });
    expect(reports).toEqual([
      {
        outcome: 'drained',
        accepted: 0,
        completed: 0,
        dropped: 0,
        failed: 0,
        undelivered: 0,
        unaccounted: 0,
        aborted: 0,
        neverStarted: 0,
        stages: [],
      },
    ]);
  });

  it('a stop that fires at subscription and drains at once: the stop, the source and the deadline timer are released', () => {
    // A BehaviorSubject fires inside subscribe(), before the stop's subscription is held.
    const stop = new BehaviorSubject<string>('s');
    let virtual: TestScheduler | undefined;
    marbles(({ hot, expectObservable, expectSubscriptions }, scheduler) => {
      virtual = scheduler;
      const source = hot('----a--');
      expectObservable(source.pipe(drainOnComplete(identity<string>(), { stop, deadline: 10, scheduler }))).toBe('|');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
    expect(stop.observed).toBe(false);
    expect(virtual?.actions).toEqual([]);
  });

  it('an AbortSignal works as the stop (the SIGTERM case)', () => {
    const controller = new AbortController();
    marbles(({ hot, cold, expectObservable }, scheduler) => {
      const out = hot('ab-c-d').pipe(
        drainOnComplete(
          mergeWorkers((v: string) => cold('---(x|)').pipe(map(() => v)), { concurrency: 2 }),
          {
            stop: controller.signal,
            deadline: 100,
            scheduler,
          },
        ),
      );
      scheduler.schedule(() => controller.abort(), 2);
      expectObservable(out).toBe('---a(b|)');
    });
  });

  it('an already aborted signal drains at once', () => {
    const controller = new AbortController();
    controller.abort();
    marbles(({ hot, expectObservable }, scheduler) => {
      expectObservable(
        hot('-a').pipe(drainOnComplete(identity(), { stop: controller.signal, deadline: 5, scheduler })),
      ).toBe('|');
    });
  });

  it('unsubscribing from the output aborts at once, with reason unsubscribed, and reports it', () => {
    const reports: DrainReport[] = [];
    const signals: AbortSignal[] = [];
    marbles(({ hot, cold, expectObservable, expectSubscriptions }, scheduler) => {
      const source = hot('ab----');
      const job = cold('-----(x|)');
      const out = source.pipe(
        drainOnComplete(
          mergeWorkers(
            (v: string, { signal }) => {
              signals.push(signal);
              return job.pipe(map(() => v));
            },
            { concurrency: 2 },
          ),
          { stop: hot('-s'), deadline: 100, scheduler, onReport: (r) => reports.push(r) },
        ),
      );
      expectObservable(out, '^--!').toBe('');
      expectSubscriptions(job.subscriptions).toBe(['^--!', '-^-!']);
    });
    expect(signals.map((s) => (s.reason as CancelledError).reason)).toEqual(['unsubscribed', 'unsubscribed']);
    expect(reports).toEqual([
      {
        outcome: 'unsubscribed',
        accepted: 2,
        completed: 0,
        dropped: 0,
        failed: 0,
        aborted: 2,
        neverStarted: 0,
        undelivered: 0,
        unaccounted: 0,
        stages: [{ operator: 'mergeWorkers', dropped: 0, failed: 0, aborted: 2, neverStarted: 0, undelivered: 0 }],
      },
    ]);
  });

  it('with deadlineError, the deadline is a DrainDeadlineError carrying the report', () => {
    marbles(({ hot, cold, expectObservable }, scheduler) => {
      const out = hot('a').pipe(
        drainOnComplete(
          mergeWorkers(() => cold('-----(x|)'), { concurrency: 1 }),
          {
            stop: hot('-s'),
            deadline: 2,
            scheduler,
            deadlineError: true,
          },
        ),
      );
      const report: DrainReport = {
        outcome: 'deadline',
        accepted: 1,
        completed: 0,
        dropped: 0,
        failed: 0,
        aborted: 1,
        neverStarted: 0,
        undelivered: 0,
        unaccounted: 0,
        stages: [{ operator: 'mergeWorkers', dropped: 0, failed: 0, aborted: 1, neverStarted: 0, undelivered: 0 }],
      };
      expectObservable(out).toBe('---#', undefined, new DrainDeadlineError(report));
    });
  });

  it('without a stop, the drain starts when the source completes, and the deadline still holds', () => {
    const reports: DrainReport[] = [];
    marbles(({ cold, expectObservable }, scheduler) => {
      const out = cold('ab|').pipe(
        drainOnComplete(
          mergeWorkers((v: string) => cold(v === 'a' ? '--(x|)' : '--------(x|)').pipe(map(() => v)), {
            concurrency: 2,
          }),
          {
            deadline: 4,
            scheduler,
            onReport: (r) => reports.push(r),
          },
        ),
      );
      expectObservable(out).toBe('--a---|');
    });
    expect(reports[0]).toMatchObject({ outcome: 'deadline', accepted: 2, completed: 1, aborted: 1 });
  });

  it("the source completing by itself drains too, and reports 'drained' when everything finished", () => {
    const reports: DrainReport[] = [];
    marbles(({ cold, expectObservable }, scheduler) => {
      expectObservable(
        cold('ab|').pipe(
          drainOnComplete(identity(), { deadline: Infinity, scheduler, onReport: (r) => reports.push(r) }),
        ),
      ).toBe('ab|');
    });
    expect(reports).toEqual([
      {
        outcome: 'drained',
        accepted: 2,
        completed: 2,
        dropped: 0,
        failed: 0,
        undelivered: 0,
        unaccounted: 0,
        aborted: 0,
        neverStarted: 0,
        stages: [],
      },
    ]);
  });

  it('canonical cases: never, empty, error, synchronous source with take, finalize order', () => {
    marbles(({ cold, expectObservable }, scheduler) => {
      expectObservable(NEVER.pipe(drainOnComplete(identity(), { deadline: 5, scheduler }))).toBe('');
      expectObservable(EMPTY.pipe(drainOnComplete(identity(), { deadline: 5, scheduler }))).toBe('|');
      expectObservable(cold('a#').pipe(drainOnComplete(identity(), { deadline: 5, scheduler }))).toBe('a#');
    });
    const out: number[] = [];
    of(1, 2, 3, 4)
      .pipe(
        drainOnComplete(
          mergeWorkers((v: number) => of(v), { concurrency: 2 }),
          { deadline: 5 },
        ),
        take(2),
      )
      .subscribe((v) => out.push(v));
    expect(out).toEqual([1, 2]);
    const order: string[] = [];
    marbles(({ cold, expectObservable }, scheduler) => {
      expectObservable(
        cold('a|').pipe(
          finalize(() => order.push('source')),
          drainOnComplete(identity(), { deadline: 5, scheduler }),
          finalize(() => order.push('output')),
        ),
      ).toBe('a|');
    });
    expect(order).toEqual(['source', 'output']);
  });

  it('passes demand through: a slow demand-aware consumer paces a pausable source', async () => {
    const ch = channel<number>({ capacity: 100 });
    for (let i = 0; i < 10; i++) ch.trySend(i);
    const stop = new Subject<void>();
    const got: number[] = [];
    marbles(({ expectObservable }, scheduler) => {
      const out = ch.observable.pipe(
        drainOnComplete(identity(), { stop, deadline: 100, scheduler }),
        pullEvery(3, scheduler),
        take(3),
      );
      out.subscribe((v) => got.push(v));
      void expectObservable;
    });
    // Only the values the consumer asked for left the channel.
    expect(got).toEqual([0, 1, 2]);
    expect(ch.size).toBe(7);
  });

  it('a stop trigger that errors fails the output with that error and releases the segment', () => {
    const signals: AbortSignal[] = [];
    const reports: DrainReport[] = [];
    const broken = new Error('stop trigger failed');
    marbles(({ hot, cold, expectObservable }, scheduler) => {
      const out = hot('a').pipe(
        drainOnComplete(
          mergeWorkers(
            (_v: string, { signal }) => {
              signals.push(signal);
              return cold('-----(x|)');
            },
            { concurrency: 1 },
          ),
          { stop: hot('--#', undefined, broken), deadline: 10, scheduler, onReport: (r) => reports.push(r) },
        ),
      );
      expectObservable(out).toBe('--#', undefined, broken);
    });
    expect(signals[0]!.aborted).toBe(true);
    expect(reports).toMatchObject([{ outcome: 'error', accepted: 1, aborted: 1 }]);
  });

  it('counts only its own segment: stages before it are cancelled with the reason but not tallied', () => {
    const reports: DrainReport[] = [];
    const controller = new AbortController();
    marbles(({ cold }, scheduler) => {
      fromPull([1, 2, 3])
        .pipe(
          mergeWorkers(() => cold<number>('-'), { concurrency: 2 }), // outside the segment, never ends
          drainOnComplete(boundedBuffer<number>({ capacity: 2, overflow: 'block' }), {
            stop: controller.signal,
            drainSource: true,
            deadline: 5,
            scheduler,
            onReport: (r) => reports.push(r),
          }),
        )
        .subscribe();
      controller.abort();
    });
    expect(reports).toEqual([
      {
        outcome: 'deadline',
        accepted: 0,
        completed: 0,
        dropped: 0,
        failed: 0,
        undelivered: 0,
        unaccounted: 0,
        aborted: 0,
        neverStarted: 0,
        stages: [],
      },
    ]);
  });

  it('results finished but not yet emitted at the deadline are not counted as completed', () => {
    const reports: DrainReport[] = [];
    const controller = new AbortController();
    marbles((_helpers, scheduler) => {
      const out = fromPull([1, 2, 3, 4]).pipe(
        drainOnComplete(
          mergeWorkers((x: number) => of(x * 10), { concurrency: 2 }),
          {
            stop: controller.signal,
            deadline: 10,
            scheduler,
            onReport: (r) => reports.push(r),
          },
        ),
      );
      probe(out); // demand-aware, and never asks
      controller.abort();
    });
    expect(reports).toHaveLength(1);
    const r = reports[0]!;
    expect(r.outcome).toBe('deadline');
    expect(r.completed).toBe(0);
    // Two values ran and finished, their results never left (undelivered, not safe to run again);
    // the third was taken but never started (safe to run again).
    expect(r).toMatchObject({ accepted: 3, undelivered: 2, neverStarted: 1, aborted: 0 });
    expectLaw(r);
  });

  it('property: the report adds up to accepted, and each count matches what happened', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 10, maxLength: 10 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        (gaps, durations, stopAt, deadline, concurrency, capacity) => {
          const reports: DrainReport[] = [];
          const started: AbortSignal[] = [];
          const buffer = bufferMonitor();
          let emitted = 0;
          marbles(({ hot, cold }, scheduler) => {
            let m = '';
            gaps.forEach((g, i) => (m += '-'.repeat(g) + String.fromCharCode(97 + i)));
            const source = hot(m);
            source
              .pipe(
                drainOnComplete(
                  pipe(
                    boundedBuffer<string>({ capacity, overflow: 'drop-newest', monitor: buffer }),
                    mergeWorkers(
                      (v: string, { signal }) => {
                        started.push(signal);
                        return cold('-'.repeat(durations[v.charCodeAt(0) - 97]!) + '(x|)');
                      },
                      { concurrency },
                    ),
                  ),
                  { stop: hot('-'.repeat(stopAt) + 's'), deadline, scheduler, onReport: (r) => reports.push(r) },
                ),
              )
              .subscribe(() => emitted++);
            scheduler.flush();
          });
          expect(reports).toHaveLength(1);
          const r = reports[0]!;
          expectLaw(r);
          const aborted = started.filter((s) => s.aborted);
          expect(r.aborted).toBe(aborted.length);
          for (const s of aborted) expect((s.reason as CancelledError).reason).toBe('deadline');
          // Values the buffer dropped are counted as dropped, never as completed.
          const dropped = buffer.snapshot().dropped;
          expect(emitted).toBe(started.length - aborted.length);
          expect(r.completed).toBe(emitted);
          expect(r.dropped).toBe(dropped);
          expect(r.undelivered).toBe(0);
          expect(r.neverStarted).toBe(r.accepted - started.length - dropped);
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** The conservation law of a drain report: every accepted value in exactly one state. */
function expectLaw(r: DrainReport): void {
  const { completed, dropped, failed, aborted, neverStarted, undelivered, unaccounted } = r;
  expect(completed + dropped + failed + aborted + neverStarted + undelivered + unaccounted).toBe(r.accepted);
  expect(unaccounted).toBe(0);
}
