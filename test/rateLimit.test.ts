import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  NEVER,
  Observable,
  Subject,
  concat,
  finalize,
  firstValueFrom,
  map,
  mergeMap,
  of,
  take,
  throttleTime,
  throwError,
  toArray,
  type MonoTypeOperatorFunction,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  OverflowError,
  ProtocolError,
  drainOnComplete,
  fromPull,
  isDemandAware,
  mergeWorkers,
  rateLimit,
  rateMonitor,
  type DrainReport,
  type RateStats,
} from '../index.js';
import { Monitor } from '../lib/core/monitor.js';
import { PROTOCOL_VERSION, demandProtocolOf, toDemandObservable, type DemandObserver } from '../lib/core/protocol.js';
import { countingIterable, marbles, probe } from './helpers.js';

function virtualTime(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Moves a hand-driven TestScheduler `frames` frames on, running every action due by then. */
function advance(scheduler: TestScheduler, frames: number): void {
  const target = scheduler.frame + frames;
  scheduler.maxFrames = target;
  scheduler.flush();
  scheduler.frame = target;
}

describe('rateLimit', () => {
  describe('public signature', () => {
    it('is a MonoTypeOperatorFunction returning a demand-aware Observable, with a typed monitor', () => {
      expectTypeOf(rateLimit<number>({ count: 1, per: 10 })).toEqualTypeOf<MonoTypeOperatorFunction<number>>();
      expectTypeOf(rateMonitor()).toEqualTypeOf<Monitor<RateStats>>();
      expect(isDemandAware(of(1).pipe(rateLimit({ count: 1, per: 10 })))).toBe(true);
      // @ts-expect-error per is required: a count alone is not a rate
      expect(() => rateLimit({ count: 1 })).toThrow(TypeError);
    });

    it('fails fast on bad options, naming rateLimit and the parameter', () => {
      const bad: [unknown, RegExp, ErrorConstructor][] = [
        [{ count: 0, per: 10 }, /rateLimit: 'count' must be a positive integer, got 0/, RangeError],
        [{ count: 1, per: 0 }, /rateLimit: 'per' must be a finite number of ms > 0, got 0/, RangeError],
        [{ count: 1, per: Infinity }, /'per'.*got Infinity/, RangeError],
        [{ count: 1, per: '10' }, /'per'.*got "10"/, TypeError],
        [{ count: 2, per: 10, burst: 3 }, /'burst' must be a positive integer up to count \(2\), got 3/, RangeError],
        [{ count: 2, per: 10, overflow: 'block' }, /'overflow'.*a pausable source is paused/, TypeError],
        [{ count: 2, per: 10, monitor: rateMonitor }, /'monitor' must be a monitor from rateMonitor\(\)/, TypeError],
        [{ count: 2, per: 10, rate: 5 }, /rateLimit: unknown option 'rate'/, TypeError],
      ];
      for (const [options, message, type] of bad) {
        expect(() => rateLimit(options as never)).toThrow(type);
        expect(() => rateLimit(options as never)).toThrow(message);
      }
    });
  });

  describe('the rate', () => {
    it('at most count values in any window of per ms, against a plain subscriber', () => {
      marbles(({ cold, expectObservable }, scheduler) => {
        const out = cold('(abcdefg)|').pipe(rateLimit({ count: 3, per: 10, scheduler }));
        expectObservable(out).toBe('(abc) 5ms (def) 5ms (g|)');
      });
    });

    it('is a sliding window: a slot comes back per ms after its own value, not at a fixed tick', () => {
      marbles(({ cold, expectObservable }, scheduler) => {
        // a at 0, b at 7: a's slot returns at 10 (c), b's at 17 (d). A fixed window [0, 10) would
        // let c and d both go at 10.
        const out = cold('a------bcd|').pipe(rateLimit({ count: 2, per: 10, scheduler }));
        expectObservable(out).toBe('a------b--c------(d|)');
      });
    });

    it('burst spreads the rate: at most burst values in any per × burst / count ms', () => {
      marbles(({ cold, expectObservable }, scheduler) => {
        const out = cold('(abcdef)|').pipe(rateLimit({ count: 4, per: 8, burst: 2, scheduler }));
        // 2 per 4 frames, and 4 per 8 frames
        expectObservable(out).toBe('(ab)(cd)(ef|)');
      });
    });

    it('a pausable source is read no faster than the rate: each value is pulled when it can be emitted', () => {
      const scheduler = virtualTime();
      const src = countingIterable();
      const values: number[] = [];
      const subscription = fromPull(src.iterable)
        .pipe(rateLimit({ count: 2, per: 10, scheduler }))
        .subscribe((v) => values.push(v));
      expect(src.pulled()).toBe(2);
      advance(scheduler, 9);
      expect(src.pulled()).toBe(2);
      advance(scheduler, 1);
      expect(src.pulled()).toBe(4);
      advance(scheduler, 100);
      expect(values).toEqual(Array.from({ length: 24 }, (_, i) => i));
      expect(src.pulled()).toBe(24); // nothing read ahead
      subscription.unsubscribe();
      expect(src.returned()).toBe(true);
      expect(scheduler.actions).toEqual([]);
    });

    it('asks a pausable source only for min(free slots, demand): a demand-aware consumer is never overrun', () => {
      const scheduler = virtualTime();
      const src = countingIterable();
      const p = probe(fromPull(src.iterable).pipe(rateLimit({ count: 5, per: 10, scheduler })));
      p.request(2);
      expect(p.values).toEqual([0, 1]);
      expect(src.pulled()).toBe(2);
      p.request(10);
      expect(p.values).toEqual([0, 1, 2, 3, 4]); // 5 slots in the first window
      advance(scheduler, 10);
      expect(p.values).toHaveLength(10);
      advance(scheduler, 10);
      expect(p.values).toHaveLength(12); // demand, not the rate, is the limit now
      expect(src.pulled()).toBe(12);
      p.cancel();
      expect(scheduler.actions).toEqual([]);
    });

    it('composes with mergeWorkers: the pool pulls for free workers and work starts at the rate', () => {
      const scheduler = virtualTime();
      const starts: number[] = [];
      const results: number[] = [];
      fromPull([0, 1, 2, 3, 4, 5])
        .pipe(
          rateLimit({ count: 2, per: 10, scheduler }),
          mergeWorkers(
            (v: number) =>
              new Observable<number>((subscriber) => {
                starts.push(scheduler.now());
                const action = scheduler.schedule(() => {
                  subscriber.next(v);
                  subscriber.complete();
                }, 1);
                return () => action.unsubscribe();
              }),
            { concurrency: 6 },
          ),
        )
        .subscribe((v) => results.push(v));
      advance(scheduler, 100);
      expect(starts).toEqual([0, 0, 10, 10, 20, 20]);
      expect(results).toEqual([0, 1, 2, 3, 4, 5]);
      expect(scheduler.actions).toEqual([]);
    });
  });

  describe('[BP-07] drop without metric', () => {
    it('[BP-07] naive: throttleTime keeps a rate by dropping, and nothing counts what it dropped (pinned)', () => {
      marbles(({ cold, expectObservable }, scheduler) => {
        // b to f arrive while the window opened by a is still running: all five are gone.
        expectObservable(cold('abcdef|').pipe(throttleTime(6, scheduler))).toBe('a-----|');
      });
    });

    it('[BP-07] library: rateLimit keeps the same rate by delaying: every value arrives, and the monitor accounts for each', () => {
      marbles(({ cold, expectObservable }, scheduler) => {
        const monitor = rateMonitor();
        expectObservable(cold('abcdef|').pipe(rateLimit({ count: 1, per: 5, scheduler, monitor }))).toBe(
          'a 4ms b 4ms c 4ms d 4ms e 4ms (f|)',
        );
        scheduler.schedule(() => {
          expect(monitor.snapshot()).toMatchObject({ received: 6, emitted: 6, discarded: 0 });
          expect(monitor.snapshot().queue).toMatchObject({ dropped: 0, discarded: 0 });
        }, 100);
      });
    });
  });

  describe('a push source', () => {
    it('is absorbed by the bounded queue, counted under monitor.queue', () => {
      const scheduler = virtualTime();
      const source = new Subject<number>();
      const monitor = rateMonitor();
      const values: number[] = [];
      source.pipe(rateLimit({ count: 1, per: 10, scheduler, monitor })).subscribe((v) => values.push(v));
      for (let i = 0; i < 4; i++) source.next(i);
      expect(values).toEqual([0]);
      expect(monitor.snapshot()).toMatchObject({ received: 1, emitted: 1, held: 0, tokens: 0 });
      expect(monitor.snapshot().queue).toMatchObject({ received: 4, emitted: 1, depth: 3 });
      advance(scheduler, 30);
      expect(values).toEqual([0, 1, 2, 3]);
      source.complete();
      expect(monitor.snapshot().queue).toMatchObject({ received: 4, emitted: 4, depth: 0, dropped: 0 });
    });

    it("'drop-oldest' sheds the oldest waiting values, counted and passed to onDrop", () => {
      const scheduler = virtualTime();
      const source = new Subject<number>();
      const dropped: number[] = [];
      const values: number[] = [];
      source
        .pipe(
          rateLimit({
            count: 1,
            per: 10,
            scheduler,
            capacity: 2,
            overflow: 'drop-oldest',
            onDrop: (v) => dropped.push(v),
          }),
        )
        .subscribe((v) => values.push(v));
      for (let i = 0; i < 6; i++) source.next(i);
      advance(scheduler, 30);
      expect(values).toEqual([0, 4, 5]);
      expect(dropped).toEqual([1, 2, 3]);
    });

    it("the default 'error' fails with an OverflowError naming rateLimit, and releases the source", () => {
      const scheduler = virtualTime();
      const source = new Subject<number>();
      let error: unknown;
      source
        .pipe(rateLimit({ count: 1, per: 10, scheduler, capacity: 2 }))
        .subscribe({ error: (e: unknown) => (error = e) });
      for (let i = 0; i < 4; i++) source.next(i);
      expect(error).toEqual(new OverflowError('rateLimit', 2, 'error'));
      expect(source.observed).toBe(false);
      expect(scheduler.actions).toEqual([]);
    });

    it('a throwing onDrop fails the stream with what it threw', () => {
      const scheduler = virtualTime();
      const source = new Subject<number>();
      const boom = new Error('onDrop threw');
      let error: unknown;
      source
        .pipe(
          rateLimit({
            count: 1,
            per: 10,
            scheduler,
            capacity: 1,
            overflow: 'drop-newest',
            onDrop: () => {
              throw boom;
            },
          }),
        )
        .subscribe({ error: (e: unknown) => (error = e) });
      for (let i = 0; i < 3; i++) source.next(i);
      expect(error).toBe(boom);
      expect(source.observed).toBe(false);
      expect(scheduler.actions).toEqual([]);
    });
  });

  describe('canonical cases', () => {
    it('never: nothing, no timer, subscribed until the end', () => {
      marbles(({ cold, expectObservable, expectSubscriptions }, scheduler) => {
        const source = cold('-');
        expectObservable(source.pipe(rateLimit({ count: 1, per: 5, scheduler })), '---!').toBe('---');
        expectSubscriptions(source.subscriptions).toBe('^--!');
      });
    });

    it('empty: completes at once', () => {
      marbles(({ cold, expectObservable }, scheduler) => {
        expectObservable(cold('|').pipe(rateLimit({ count: 1, per: 5, scheduler }))).toBe('|');
      });
    });

    it('error: passes straight through', () => {
      marbles(({ cold, expectObservable }, scheduler) => {
        expectObservable(cold('#', undefined, 'boom').pipe(rateLimit({ count: 1, per: 5, scheduler }))).toBe(
          '#',
          undefined,
          'boom',
        );
      });
    });

    it('early unsubscribe: the source is unsubscribed and the window timers cancelled', () => {
      const scheduler = virtualTime();
      const source = new Subject<number>();
      const subscription = source.pipe(rateLimit({ count: 1, per: 10, scheduler })).subscribe();
      source.next(1);
      source.next(2);
      expect(scheduler.actions).toHaveLength(1);
      subscription.unsubscribe();
      expect(source.observed).toBe(false);
      expect(scheduler.actions).toEqual([]);
    });

    it('does not break unsubscription chains when the result is unsubscribed explicitly', () => {
      marbles(({ hot, expectObservable, expectSubscriptions }, scheduler) => {
        const source = hot('-a-b-c-d-|');
        const result = source.pipe(
          mergeMap((x) => of(x)),
          rateLimit({ count: 1, per: 3, scheduler }),
          mergeMap((x) => of(x)),
        );
        expectObservable(result, '------!').toBe('-a--b-');
        expectSubscriptions(source.subscriptions).toBe('^-----!');
      });
    });

    it('a synchronous endless source is stopped by take downstream', () => {
      let emitted = 0;
      const endless = new Observable<number>((subscriber) => {
        while (!subscriber.closed && emitted < 10_000) subscriber.next(emitted++);
      });
      const out: number[] = [];
      endless.pipe(rateLimit({ count: 2, per: 10, scheduler: virtualTime() }), take(2)).subscribe((v) => out.push(v));
      expect(out).toEqual([0, 1]);
    });

    it('a synchronous pausable source is asked for no more than take needs', async () => {
      const src = countingIterable();
      const out = await firstValueFrom(
        fromPull(src.iterable).pipe(rateLimit({ count: 3, per: 10 }), take(3), toArray()),
      );
      expect(out).toEqual([0, 1, 2]);
      expect(src.pulled()).toBe(3);
      expect(src.returned()).toBe(true);
    });

    it('reentrancy: requesting from inside next, 100,000 synchronous values, no stack overflow', () => {
      const scheduler = virtualTime();
      const values: number[] = [];
      const q = probe(
        fromPull(Array.from({ length: 100_000 }, (_, i) => i)).pipe(rateLimit({ count: 100_000, per: 1, scheduler })),
        (v, self) => {
          values.push(v);
          self.request(1);
        },
        1,
      );
      expect(values).toHaveLength(100_000);
      expect(q.completions).toBe(1);
    });

    it('a consumer that pushes into the source from inside next sees every value once, in order', () => {
      const scheduler = virtualTime();
      const subject = new Subject<number>();
      const got: number[] = [];
      subject.pipe(rateLimit({ count: 100, per: 10, scheduler })).subscribe((v) => {
        got.push(v);
        if (v < 5) subject.next(v + 1);
      });
      subject.next(0);
      expect(got).toEqual([0, 1, 2, 3, 4, 5]);
    });

    it('finalize: the source finalizer runs once, before the output’s, on complete, error, unsubscribe and take', () => {
      for (const kind of ['complete', 'error', 'unsubscribe', 'take']) {
        const log: string[] = [];
        const source =
          kind === 'complete'
            ? of(1, 2)
            : kind === 'error'
              ? concat(
                  of(1),
                  throwError(() => 'e'),
                )
              : concat(of(1, 2, 3), NEVER);
        const subscription = source
          .pipe(
            finalize(() => log.push('source finalize')),
            rateLimit({ count: 10, per: 10, scheduler: virtualTime() }),
            kind === 'take' ? take(1) : (x) => x,
            finalize(() => log.push('output finalize')),
          )
          .subscribe({ error: () => log.push('error'), complete: () => log.push('complete') });
        if (kind === 'unsubscribe') subscription.unsubscribe();
        expect(
          log.filter((l) => l === 'source finalize'),
          kind,
        ).toHaveLength(1);
        expect(log.at(-1), kind).toBe('output finalize');
      }
    });

    it('a value the source was not asked for is a ProtocolError (rule 1.1), not an overrun', () => {
      let observer: DemandObserver<number> | undefined;
      const rogue = toDemandObservable<number>({
        version: PROTOCOL_VERSION,
        subscribe(o) {
          observer = o;
          const handle = { request: () => undefined, cancel: () => undefined };
          o.start?.(handle);
          return handle;
        },
      });
      const p = probe(rogue.pipe(rateLimit({ count: 1, per: 10, scheduler: virtualTime() })), undefined, 1);
      observer!.next(1);
      observer!.next(2);
      expect(p.values).toEqual([1]);
      expect(p.errors[0]).toBeInstanceOf(ProtocolError);
      expect((p.errors[0] as Error).message).toMatch(/^rateLimit: .*rule 1\.1/);
    });

    it('a cancellation is passed upstream, and what was queued is counted as discarded', () => {
      const source = new Subject<number>();
      const monitor = rateMonitor();
      const stage = source.pipe(rateLimit({ count: 1, per: 10, scheduler: virtualTime(), monitor }));
      const handle = demandProtocolOf(stage)!.subscribe({ next() {}, error() {}, complete() {} });
      handle.request(5);
      [1, 2, 3].forEach((v) => source.next(v));
      handle.cancel({ reason: 'deadline' });
      expect(monitor.snapshot()).toMatchObject({ received: 1, emitted: 1, held: 0 });
      expect(monitor.snapshot().queue).toMatchObject({ received: 3, emitted: 1, discarded: 2, depth: 0 });
      expect(source.observed).toBe(false);
    });

    it('inside drainOnComplete, the values it held at the deadline are reported as never started', () => {
      const reports: DrainReport[] = [];
      const controller = new AbortController();
      const scheduler = virtualTime();
      scheduler.run(() => {
        fromPull([1, 2, 3, 4, 5])
          .pipe(
            drainOnComplete(rateLimit<number>({ count: 1, per: 10, scheduler }), {
              stop: controller.signal,
              drainSource: true,
              deadline: 15,
              scheduler,
              onReport: (r) => reports.push(r),
            }),
          )
          .subscribe();
        controller.abort();
      });
      const r = reports[0]!;
      expect(r).toMatchObject({ outcome: 'deadline', completed: 2, aborted: 0, unaccounted: 0 });
      expect(r.completed + r.neverStarted + r.dropped).toBe(r.accepted);
    });

    it('works with the default asyncScheduler in real time (values only, no timing asserted)', async () => {
      const out = await firstValueFrom(
        of(1, 2, 3).pipe(
          rateLimit({ count: 3, per: 50 }),
          map((v) => v * 2),
          toArray(),
        ),
      );
      expect(out).toEqual([2, 4, 6]);
    });
  });
});
