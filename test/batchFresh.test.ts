import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  NEVER,
  Observable,
  Subject,
  bufferCount,
  bufferTime,
  concat,
  config,
  finalize,
  firstValueFrom,
  mergeMap,
  of,
  range,
  take,
  throwError,
  toArray,
  type OperatorFunction,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import fc from 'fast-check';
import {
  Monitor,
  OverflowError,
  ProtocolError,
  batchFresh,
  batchMonitor,
  boundedBuffer,
  bufferMonitor,
  fromPull,
  type BatchFreshOptions,
  type BatchStats,
} from '../index.js';
import { demandProtocolOf } from '../lib/core/protocol.js';
import { countingIterable, probe } from './helpers.js';

/** A TestScheduler driven by hand (`flush`, `frame`), asserting with vitest. */
function virtualTime(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });
}

/** Moves a hand-driven TestScheduler `frames` frames on, running every action due by then. */
function advance(scheduler: TestScheduler, frames: number): void {
  const target = scheduler.frame + frames;
  scheduler.maxFrames = target;
  scheduler.flush();
  scheduler.frame = target;
}

describe('batchFresh', () => {
  describe('public signature', () => {
    it('is an operator from T to T[] with a typed monitor and options', () => {
      expectTypeOf(batchFresh<number>({ size: 2 })).toEqualTypeOf<OperatorFunction<number, number[]>>();
      expectTypeOf(of(1, 2, 3).pipe(batchFresh({ size: 2 }))).toEqualTypeOf<Observable<number[]>>();
      expectTypeOf(of('a').pipe(batchFresh({ maxWait: 10 }))).toEqualTypeOf<Observable<string[]>>();
      expectTypeOf(batchMonitor()).toEqualTypeOf<Monitor<BatchStats>>();
      expectTypeOf(batchFresh).parameter(0).toEqualTypeOf<BatchFreshOptions>();
      expectTypeOf<BatchFreshOptions['onError']>().toEqualTypeOf<'flush' | 'discard' | undefined>();
      expectTypeOf<BatchFreshOptions['overflow']>().toEqualTypeOf<
        'drop-newest' | 'drop-oldest' | 'error' | undefined
      >();
      expectTypeOf<BatchFreshOptions['freeze']>().toEqualTypeOf<boolean | undefined>();
      expectTypeOf<BatchStats>().toHaveProperty('pending').toEqualTypeOf<number>();
      // @ts-expect-error an options object is required (size, maxWait or both)
      expect(() => batchFresh()).toThrow(TypeError);
      // @ts-expect-error a pausable source is paused; a push source cannot block
      expect(() => batchFresh({ size: 2, overflow: 'block' })).toThrow(TypeError);
      // @ts-expect-error only 'flush' and 'discard'
      expect(() => batchFresh({ size: 2, onError: 'keep' })).toThrow(TypeError);
    });
  });

  it('fails fast on bad options, naming batchFresh and the parameter', () => {
    const scheduler = virtualTime();
    const bad: [unknown, RegExp, ErrorConstructor][] = [
      [undefined, /batchFresh: 'options' must be an options object/, TypeError],
      [null, /batchFresh: 'options' must be an options object/, TypeError],
      [{}, /batchFresh: 'size', 'maxWait' or 'maxWeight' is required/, TypeError],
      [{ scheduler }, /batchFresh: 'size', 'maxWait' or 'maxWeight' is required/, TypeError],
      [{ size: 0 }, /batchFresh: 'size' must be a positive integer, got 0/, RangeError],
      [{ size: -2 }, /'size'.*got -2/, RangeError],
      [{ size: 1.5 }, /'size'.*got 1.5/, RangeError],
      [{ size: NaN }, /'size'.*got NaN/, RangeError],
      [{ size: Infinity }, /'size'.*got Infinity/, RangeError],
      [{ size: '3' }, /'size'.*got "3"/, TypeError],
      [{ maxWait: 0 }, /batchFresh: 'maxWait' must be a finite number of ms > 0, got 0/, RangeError],
      [{ maxWait: -5 }, /'maxWait'.*got -5/, RangeError],
      [{ maxWait: NaN }, /'maxWait'.*got NaN/, RangeError],
      [{ maxWait: Infinity }, /'maxWait'.*got Infinity/, RangeError],
      [{ maxWait: '10' }, /'maxWait'.*got "10"/, TypeError],
      [{ size: 2, scheduler: {} }, /batchFresh: 'scheduler' must be a SchedulerLike/, TypeError],
      [{ size: 2, scheduler: null }, /'scheduler' must be a SchedulerLike, got null/, TypeError],
      [{ size: 2, onError: 'keep' }, /batchFresh: 'onError' must be 'flush' or 'discard', got "keep"/, TypeError],
      [{ size: 2, freeze: 'yes' }, /batchFresh: 'freeze' must be a boolean/, TypeError],
      [{ size: 2, freeze: null }, /'freeze' must be a boolean, got null/, TypeError],
      [{ size: 2, onError: null }, /'onError' must be 'flush' or 'discard', got null/, TypeError],
      [{ size: 2, maxPending: 0 }, /batchFresh: 'maxPending' must be a positive integer, got 0/, RangeError],
      [{ size: 2, maxPending: 2.5 }, /'maxPending'.*got 2.5/, RangeError],
      [{ size: 2, overflow: 'drop-latest' }, /batchFresh: 'overflow' must be one of/, TypeError],
      [
        { size: 2, overflow: 'block' },
        /batchFresh: 'overflow' must be 'drop-newest', 'drop-oldest' or 'error'/,
        TypeError,
      ],
      [{ size: 2, monitor: {} }, /batchFresh: 'monitor' must be a monitor from batchMonitor\(\)/, TypeError],
    ];
    for (const [options, message, type] of bad) {
      // Thrown when the operator is created, before anything subscribes.
      expect(() => batchFresh(options as never)).toThrow(type);
      expect(() => batchFresh(options as never)).toThrow(message);
    }
  });

  describe('batching', () => {
    it('by size: full batches in order, the partial one flushed on completion', async () => {
      expect(await firstValueFrom(range(0, 7).pipe(batchFresh({ size: 3 }), toArray()))).toEqual([
        [0, 1, 2],
        [3, 4, 5],
        [6],
      ]);
      expect(await firstValueFrom(range(0, 6).pipe(batchFresh({ size: 3 }), toArray()))).toEqual([
        [0, 1, 2],
        [3, 4, 5],
      ]);
      expect(await firstValueFrom(range(0, 3).pipe(batchFresh({ size: 1 }), toArray()))).toEqual([[0], [1], [2]]);
    });

    it('by time: maxWait after a batch’s first value; an idle timer never yields an empty batch', () => {
      virtualTime().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('ab 10ms c 20ms |');
        expectObservable(source.pipe(batchFresh({ maxWait: 5 }))).toBe('5ms x 11ms y 15ms |', {
          x: ['a', 'b'],
          y: ['c'],
        });
        expectSubscriptions(source.subscriptions).toBe('^ 32ms !');
      });
    });

    it('by time only, on a long idle source, emits nothing at all', () => {
      virtualTime().run(({ cold, expectObservable }) => {
        expectObservable(cold('100ms |').pipe(batchFresh({ maxWait: 5 }))).toBe('100ms |');
      });
    });

    it('by size and time: whichever comes first; a size-closed batch cancels its timer', () => {
      virtualTime().run(({ cold, expectObservable }) => {
        // abc close at 2 by size (their timer would fire at 5), d closes at 9 by time.
        expectObservable(cold('abcd 10ms |').pipe(batchFresh({ size: 3, maxWait: 6 }))).toBe('--x------y 4ms |', {
          x: ['a', 'b', 'c'],
          y: ['d'],
        });
      });
    });

    it('rxjs 7.8 bufferTime, by contrast, emits empty arrays while idle and at completion (pinned)', () => {
      virtualTime().run(({ cold, expectObservable }) => {
        expectObservable(cold('a------|').pipe(bufferTime(3))).toBe('---x--y(z|)', { x: ['a'], y: [], z: [] });
        expectObservable(cold('a------|').pipe(batchFresh({ maxWait: 3 }))).toBe('---x---|', { x: ['a'] });
      });
    });
  });

  describe('fresh arrays (ReactiveX/rxjs#5528, PP-08)', () => {
    it('mutating an earlier batch does not change a later one, and vice versa', () => {
      const batches: number[][] = [];
      range(0, 6)
        .pipe(batchFresh({ size: 2 }))
        .subscribe((batch) => {
          batch.push(-1); // mutate each batch as it arrives
          batches[0]?.splice(0, 1, 99); // and keep mutating the first
          batches.push(batch);
        });
      batches[2]?.reverse(); // a later batch mutated after the fact
      expect(batches).toEqual([
        [99, 1, -1],
        [2, 3, -1],
        [-1, 5, 4],
      ]);
      expect(new Set(batches).size).toBe(3); // three distinct arrays
    });

    it('rxjs 7.8 bufferCount also emits independent arrays: no difference there (pinned)', () => {
      const batches: number[][] = [];
      range(0, 6)
        .pipe(bufferCount(2))
        .subscribe((batch) => {
          batch.push(-1);
          batches.push(batch);
        });
      batches[0]!.length = 0;
      expect(batches).toEqual([[], [2, 3, -1], [4, 5, -1]]);
    });

    it('each subscription gets its own arrays', async () => {
      const batched = of(1, 2, 3).pipe(batchFresh({ size: 2 }));
      const [first, second] = await Promise.all([firstValueFrom(batched), firstValueFrom(batched)]);
      expect(first).toEqual(second);
      expect(first).not.toBe(second);
    });

    it('a value pushed into the source from inside next starts the next batch (the #5528 scenario)', () => {
      const scheduler = virtualTime();
      const source = new Subject<number>();
      const out: number[][] = [];
      source.pipe(batchFresh({ maxWait: 10, scheduler })).subscribe((batch) => {
        out.push(batch);
        if (out.length === 1) source.next(99);
      });
      source.next(1);
      source.next(2);
      advance(scheduler, 30);
      expect(out).toEqual([[1, 2], [99]]);
      expect(scheduler.actions).toEqual([]);
    });

    it('rxjs 7.8 bufferTime, by contrast, loses that value and emits [] instead (rxjs#3001, pinned)', () => {
      const scheduler = virtualTime();
      const source = new Subject<number>();
      const out: number[][] = [];
      const subscription = source.pipe(bufferTime(10, scheduler)).subscribe((batch) => {
        out.push(batch);
        if (out.length === 1) source.next(99);
      });
      source.next(1);
      source.next(2);
      advance(scheduler, 20);
      subscription.unsubscribe();
      expect(out).toEqual([[1, 2], []]);
    });

    it('a re-entrant value with a size-closed batch lands in the next batch, as with bufferCount', () => {
      for (const op of [batchFresh<number>({ size: 2 }), bufferCount<number>(2)]) {
        const source = new Subject<number>();
        const out: number[][] = [];
        source.pipe(op).subscribe((batch) => {
          out.push(batch);
          if (out.length === 1) source.next(100);
        });
        [1, 2, 3, 4].forEach((v) => source.next(v));
        source.complete();
        expect(out).toEqual([[1, 2], [100, 3], [4]]);
      }
    });

    it('freeze: every batch is frozen, so a consumer that mutates one throws (strict mode)', () => {
      const batches: number[][] = [];
      range(0, 5)
        .pipe(batchFresh({ size: 2, freeze: true }))
        .subscribe((batch) => batches.push(batch));
      expect(batches).toEqual([[0, 1], [2, 3], [4]]);
      for (const batch of batches) {
        expect(Object.isFrozen(batch)).toBe(true);
        expect(() => batch.push(9)).toThrow(TypeError);
        expect(() => {
          batch[0] = 9;
        }).toThrow(TypeError);
        expect(() => {
          batch.length = 0;
        }).toThrow(TypeError);
      }
      // Without freeze the batches are ordinary arrays.
      range(0, 2)
        .pipe(batchFresh({ size: 2 }))
        .subscribe((batch) => expect(Object.isFrozen(batch)).toBe(false));
    });

    it('freeze: the mutation fails in the consumer, reported by RxJS as an unhandled error', async () => {
      const reported: unknown[] = [];
      const previous = config.onUnhandledError;
      // RxJS reads the handler when it reports (on a timeout), so keep it until then.
      config.onUnhandledError = (err) => reported.push(err);
      try {
        const seen: number[][] = [];
        range(0, 4)
          .pipe(batchFresh({ size: 2, freeze: true }))
          .subscribe((batch) => {
            seen.push(batch);
            batch.push(-1);
          });
        expect(seen).toEqual([
          [0, 1],
          [2, 3],
        ]);
        await new Promise((resolve) => setTimeout(resolve, 0));
        expect(reported).toHaveLength(2);
        expect(reported[0]).toBeInstanceOf(TypeError);
      } finally {
        config.onUnhandledError = previous;
      }
    });
  });

  describe('errors', () => {
    it("'discard' (default): the error passes at once; held batches are counted, not emitted", () => {
      const monitor = batchMonitor();
      let error: unknown;
      const out: number[][] = [];
      concat(
        of(1, 2, 3, 4, 5),
        throwError(() => new Error('boom')),
      )
        .pipe(batchFresh({ size: 2, monitor }))
        .subscribe({ next: (b) => out.push(b), error: (e: unknown) => (error = e) });
      expect(out).toEqual([
        [1, 2],
        [3, 4],
      ]);
      expect(String(error)).toBe('Error: boom');
      expect(monitor.snapshot()).toEqual({
        received: 5,
        emitted: 2,
        valuesEmitted: 4,
        dropped: 0,
        valuesDropped: 0,
        discarded: 1,
        valuesDiscarded: 1,
        valuesLost: 1,
        pending: 0,
        valuesPending: 0,
        current: 0,
      });
    });

    it("'flush': the partial batch, then the error", () => {
      virtualTime().run(({ cold, expectObservable }) => {
        expectObservable(cold('abc#').pipe(batchFresh({ size: 2, onError: 'flush' }))).toBe('-x-(y#)', {
          x: ['a', 'b'],
          y: ['c'],
        });
        expectObservable(cold('ab#').pipe(batchFresh({ size: 2, onError: 'flush' }))).toBe('-x#', { x: ['a', 'b'] });
      });
    });

    it("'flush' to a demand-aware consumer: the held batches wait for its demand, then the error", () => {
      const source = new Subject<number>();
      const p = probe(source.pipe(batchFresh({ size: 2, onError: 'flush', maxPending: 2 })));
      [1, 2, 3, 4, 5].forEach((v) => source.next(v));
      source.error(new Error('boom'));
      expect(p.values).toEqual([]);
      expect(p.errors).toEqual([]);
      p.request(1);
      expect(p.values).toEqual([[1, 2]]);
      expect(p.errors).toEqual([]);
      p.request(2);
      expect(p.values).toEqual([[1, 2], [3, 4], [5]]);
      expect(String(p.errors[0])).toBe('Error: boom');
      expect(p.afterTerminal).toBe(0);
    });

    it("'discard' to a demand-aware consumer: the error is not held behind missing demand", () => {
      const source = new Subject<number>();
      const monitor = batchMonitor();
      const p = probe(source.pipe(batchFresh({ size: 2, maxPending: 2, monitor })));
      [1, 2, 3, 4, 5].forEach((v) => source.next(v));
      source.error(new Error('boom'));
      expect(p.values).toEqual([]);
      expect(String(p.errors[0])).toBe('Error: boom');
      expect(monitor.snapshot()).toMatchObject({ discarded: 3, valuesLost: 5, pending: 0, current: 0 });
    });

    it('an error with no values yields no batch under either policy', () => {
      virtualTime().run(({ cold, expectObservable }) => {
        expectObservable(cold('--#').pipe(batchFresh({ size: 2, onError: 'flush' }))).toBe('--#');
        expectObservable(cold('--#').pipe(batchFresh({ maxWait: 1 }))).toBe('--#');
      });
    });
  });

  describe('demand (reactor-core#994, #3012)', () => {
    it('emits only against requests, never more than requested', () => {
      const source = new Subject<number>();
      const p = probe(source.pipe(batchFresh({ size: 2, maxPending: 3 })));
      for (let i = 0; i < 6; i++) source.next(i);
      expect(p.values).toEqual([]); // no demand yet: three complete batches wait
      p.request(1);
      expect(p.values).toEqual([[0, 1]]);
      p.request(1);
      expect(p.values).toEqual([
        [0, 1],
        [2, 3],
      ]);
      source.next(6);
      source.next(7);
      expect(p.values).toHaveLength(2);
      p.request(5);
      expect(p.values).toEqual([
        [0, 1],
        [2, 3],
        [4, 5],
        [6, 7],
      ]);
      source.next(8); // demand is left over: a closing batch goes straight out
      source.next(9);
      expect(p.values).toHaveLength(5);
      expect(p.errors).toEqual([]);
    });

    it('a timer that fires with zero demand closes the batch, which waits for a request', () => {
      const scheduler = virtualTime();
      const source = new Subject<number>();
      const monitor = batchMonitor();
      const p = probe(source.pipe(batchFresh({ size: 10, maxWait: 5, scheduler, maxPending: 2, monitor })));
      source.next(1);
      source.next(2);
      advance(scheduler, 5);
      expect(p.values).toEqual([]);
      expect(monitor.snapshot()).toMatchObject({ pending: 1, current: 0 });
      source.next(3);
      advance(scheduler, 10);
      expect(p.values).toEqual([]);
      expect(monitor.snapshot()).toMatchObject({ pending: 2, current: 0 });
      p.request(1);
      expect(p.values).toEqual([[1, 2]]);
      p.request(1);
      expect(p.values).toEqual([[1, 2], [3]]);
      expect(p.errors).toEqual([]); // no ProtocolError: nothing was emitted without demand
      expect(scheduler.actions).toEqual([]);
    });

    it('a timer that fires with demand emits at once', () => {
      const scheduler = virtualTime();
      const source = new Subject<number>();
      const p = probe(source.pipe(batchFresh({ maxWait: 5, scheduler })), undefined, 1);
      source.next(1);
      advance(scheduler, 4);
      expect(p.values).toEqual([]);
      advance(scheduler, 1);
      expect(p.values).toEqual([[1]]);
    });

    it('pausable source: asks for one batch plus maxPending waiting batches, and no more without demand', () => {
      for (const maxPending of [1, 2, 3]) {
        const src = countingIterable(1000);
        const monitor = batchMonitor();
        const p = probe(fromPull(src.iterable).pipe(batchFresh({ size: 3, maxPending, monitor })));
        expect(p.values).toEqual([]);
        expect(src.pulled()).toBe(3 * maxPending); // maxPending full batches wait, nothing more asked
        expect(monitor.snapshot()).toMatchObject({ pending: maxPending, current: 0 });
        p.request(1);
        expect(p.values).toEqual([[0, 1, 2]]);
        expect(src.pulled()).toBe(3 * maxPending + 3); // credit released by the emission
        p.request(2);
        expect(p.values).toHaveLength(3);
        expect(src.pulled()).toBe(3 * maxPending + 9);
        p.cancel();
        expect(src.returned()).toBe(true);
        expect(monitor.snapshot()).toMatchObject({ discarded: maxPending, pending: 0 });
      }
    });

    it('pausable source, time only: values are asked for one at a time until maxPending batches wait', () => {
      const scheduler = virtualTime();
      const source = new Subject<number>();
      const upstream = bufferMonitor();
      const monitor = batchMonitor();
      // boundedBuffer over a Subject makes a pausable source whose queue shows what was not asked for.
      const p = probe(
        source.pipe(
          boundedBuffer({ capacity: 100, overflow: 'error', monitor: upstream }),
          batchFresh({ maxWait: 5, scheduler, monitor }),
        ),
      );
      source.next(1);
      source.next(2);
      expect(monitor.snapshot()).toMatchObject({ received: 2, current: 2 });
      advance(scheduler, 5); // closes [1, 2]; maxPending (1) batch waits
      source.next(3); // asked for before the batch closed: starts the next batch
      source.next(4); // not asked for: waits upstream
      source.next(5);
      expect(monitor.snapshot()).toMatchObject({ received: 3, pending: 1, current: 1 });
      expect(upstream.snapshot().depth).toBe(2);
      p.request(2);
      expect(p.values).toEqual([[1, 2]]);
      expect(monitor.snapshot()).toMatchObject({ received: 5, current: 3 });
      advance(scheduler, 5); // 3's timer
      expect(p.values).toEqual([
        [1, 2],
        [3, 4, 5],
      ]);
    });

    it('pausable source: a batch that times out while maxPending batches wait stays open, then closes first', () => {
      const scheduler = virtualTime();
      const source = new Subject<number>();
      const monitor = batchMonitor();
      const p = probe(
        source.pipe(
          boundedBuffer({ capacity: 100, overflow: 'error' }),
          batchFresh({ size: 3, maxWait: 5, scheduler, monitor }),
        ),
      );
      // Three values are asked for; one arrives, its timer closes [1]; 2 arrives on the rest.
      source.next(1);
      advance(scheduler, 5);
      source.next(2);
      advance(scheduler, 10); // 2's time is up, but [1] waits and maxPending is 1
      expect(monitor.snapshot()).toMatchObject({ pending: 1, current: 1 });
      source.next(3); // already asked for: joins the open batch
      source.next(4); // not asked for: waits upstream
      expect(monitor.snapshot()).toMatchObject({ received: 3, pending: 1, current: 2 });
      p.request(1);
      expect(p.values).toEqual([[1]]);
      expect(monitor.snapshot()).toMatchObject({ pending: 1, current: 0 }); // [2, 3] closed on the spot
      p.request(1);
      expect(p.values).toEqual([[1], [2, 3]]);
      expect(p.errors).toEqual([]);
    });

    it('push source: overflow policies, with drops counted', () => {
      const run = (overflow: 'drop-newest' | 'drop-oldest' | 'error') => {
        const source = new Subject<number>();
        const monitor = batchMonitor();
        const p = probe(source.pipe(batchFresh({ size: 2, maxPending: 2, overflow, monitor })));
        for (let i = 0; i < 8; i++) source.next(i);
        p.request(10);
        return { p, stats: monitor.snapshot(), observed: source.observed };
      };
      const newest = run('drop-newest');
      expect(newest.p.values).toEqual([
        [0, 1],
        [2, 3],
      ]);
      expect(newest.stats).toMatchObject({ dropped: 2, valuesLost: 4, emitted: 2 });
      const oldest = run('drop-oldest');
      expect(oldest.p.values).toEqual([
        [4, 5],
        [6, 7],
      ]);
      expect(oldest.stats).toMatchObject({ dropped: 2, valuesLost: 4, emitted: 2 });
      const error = run('error');
      expect(error.p.values).toEqual([]);
      expect(error.p.errors[0]).toBeInstanceOf(OverflowError);
      expect((error.p.errors[0] as Error).message).toBe(
        "batchFresh: queue overflow (capacity 2 batches, set by the 'maxPending' option, overflow policy 'error')",
      );
      expect(error.stats).toMatchObject({ discarded: 3, valuesLost: 6, dropped: 0 });
      expect(error.observed).toBe(false); // the source was unsubscribed at the overflow
    });

    it('an ordinary subscriber (unbounded demand) gets batches as soon as they close, whatever maxPending', async () => {
      const out = await firstValueFrom(range(0, 100_000).pipe(batchFresh({ size: 10, maxPending: 1 }), toArray()));
      expect(out).toHaveLength(10_000);
      expect(out[9_999]).toEqual([99_990, 99_991, 99_992, 99_993, 99_994, 99_995, 99_996, 99_997, 99_998, 99_999]);
    });

    it('an ordinary subscriber over a pausable source asks it for everything', async () => {
      const src = countingIterable(50_000);
      const out = await firstValueFrom(fromPull(src.iterable).pipe(batchFresh({ size: 7 }), toArray()));
      expect(out.flat()).toHaveLength(50_000);
      expect(out.at(-1)).toHaveLength(50_000 % 7);
    });

    it('reentrancy: requesting from inside next, 100,000 synchronous values, no stack overflow', () => {
      for (const source of [fromPull(countingIterable(100_000).iterable), range(0, 100_000)]) {
        let values = 0;
        const p = probe(
          source.pipe(batchFresh({ size: 3, maxPending: 100_000 })),
          (batch, self) => {
            values += batch.length;
            self.request(1);
          },
          1,
        );
        expect(values).toBe(100_000);
        expect(p.completions).toBe(1);
        expect(p.values.every((b) => b.length === 3 || b.length === 1)).toBe(true);
      }
    });

    it('an invalid request is a ProtocolError, as for every library stage', () => {
      const p = probe(NEVER.pipe(batchFresh({ size: 2 })));
      p.request(0);
      expect(p.errors[0]).toBeInstanceOf(ProtocolError);
    });
  });

  describe('canonical cases', () => {
    it('never: nothing, no timer, subscribed until the end', () => {
      virtualTime().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-');
        expectObservable(source.pipe(batchFresh({ size: 2, maxWait: 3 }))).toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^');
      });
    });

    it('empty: completes at once without a batch', () => {
      virtualTime().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('|');
        expectObservable(source.pipe(batchFresh({ size: 2, maxWait: 3 }))).toBe('|');
        expectSubscriptions(source.subscriptions).toBe('(^!)');
      });
    });

    it('error: passes straight through', () => {
      virtualTime().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('#', undefined, new Error('e'));
        expectObservable(source.pipe(batchFresh({ size: 2 }))).toBe('#', undefined, new Error('e'));
        expectSubscriptions(source.subscriptions).toBe('(^!)');
      });
    });

    it('never-ending: batches keep coming from a source that never completes', () => {
      virtualTime().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('a-b-c-d-e-f-g-');
        const unsub = '           -------------!';
        expectObservable(source.pipe(batchFresh({ size: 2, maxWait: 3 })), unsub).toBe('--x---y---z--', {
          x: ['a', 'b'],
          y: ['c', 'd'],
          z: ['e', 'f'],
        });
        expectSubscriptions(source.subscriptions).toBe('^------------!');
      });
    });

    it('early unsubscribe: the source is unsubscribed and the pending timer cancelled', () => {
      virtualTime().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('--a--b----|');
        expectObservable(source.pipe(batchFresh({ maxWait: 6 })), '----!').toBe('-----');
        expectSubscriptions(source.subscriptions).toBe('^---!');
      });
      // The same with a hand-driven scheduler, to look at its queue.
      const scheduler = virtualTime();
      const source = new Subject<number>();
      const monitor = batchMonitor();
      const subscription = source.pipe(batchFresh({ maxWait: 6, scheduler, monitor })).subscribe();
      source.next(1);
      expect(scheduler.actions).toHaveLength(1); // the batch's timer
      subscription.unsubscribe();
      expect(scheduler.actions).toEqual([]);
      expect(source.observed).toBe(false);
      expect(monitor.snapshot()).toMatchObject({ discarded: 1, valuesLost: 1, current: 0 });
    });

    it('early unsubscribe of a demand-aware consumer releases the timer, the waiting batches and the source', () => {
      const scheduler = virtualTime();
      const source = new Subject<number>();
      const p = probe(source.pipe(batchFresh({ size: 2, maxWait: 4, scheduler, maxPending: 2 })));
      [1, 2, 3, 4, 5].forEach((v) => source.next(v));
      expect(scheduler.actions).toHaveLength(1);
      p.cancel();
      expect(scheduler.actions).toEqual([]);
      expect(source.observed).toBe(false);
      source.next(6);
      advance(scheduler, 10);
      expect(p.values).toEqual([]);
    });

    it('does not break unsubscription chains when the result is unsubscribed explicitly', () => {
      virtualTime().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('-a-b-c-d-e-f-|');
        const result = source.pipe(
          mergeMap((x) => of(x)),
          batchFresh({ size: 2, maxWait: 10 }),
          mergeMap((x) => of(x)),
        );
        expectObservable(result, '------!').toBe('---x--', { x: ['a', 'b'] });
        expectSubscriptions(source.subscriptions).toBe('^-----!');
      });
    });

    it('a synchronous endless source is stopped by take downstream', () => {
      let emitted = 0;
      const endless = new Observable<number>((subscriber) => {
        while (!subscriber.closed) subscriber.next(emitted++);
      });
      const out: number[][] = [];
      endless.pipe(batchFresh({ size: 3 }), take(2)).subscribe((b) => out.push(b));
      expect(out).toEqual([
        [0, 1, 2],
        [3, 4, 5],
      ]);
      expect(emitted).toBe(6);
    });

    it('a synchronous pausable source is asked for no more than take needs', async () => {
      const src = countingIterable();
      const out = await firstValueFrom(fromPull(src.iterable).pipe(batchFresh({ size: 4 }), take(2), toArray()));
      expect(out).toEqual([
        [0, 1, 2, 3],
        [4, 5, 6, 7],
      ]);
      expect(src.pulled()).toBe(8);
      expect(src.returned()).toBe(true);
    });

    // A callback that throws: batchFresh takes no user callback (no onDrop, no selector), so
    // there is nothing of ours to throw; a consumer that throws is RxJS's business (see freeze).

    it('finalize: signals as with bufferCount, source finalizer before the output’s, on complete, error, unsubscribe, take', () => {
      const trace = (op: OperatorFunction<number, number[]>, kind: string): string[] => {
        const log: string[] = [];
        const source =
          kind === 'complete'
            ? of(1, 2, 3)
            : kind === 'error'
              ? concat(
                  of(1, 2, 3),
                  throwError(() => 'e'),
                )
              : concat(of(1, 2, 3, 4, 5), NEVER);
        const subscription = source
          .pipe(
            finalize(() => log.push('source finalize')),
            op,
            kind === 'take' ? take(1) : (x) => x,
            finalize(() => log.push('output finalize')),
          )
          .subscribe({
            next: (b) => log.push(`next ${JSON.stringify(b)}`),
            error: () => log.push('error'),
            complete: () => log.push('complete'),
          });
        if (kind === 'unsubscribe') subscription.unsubscribe();
        return log;
      };
      const signals = (log: string[]): string[] => log.filter((line) => !line.endsWith('finalize'));
      for (const kind of ['complete', 'error', 'unsubscribe', 'take']) {
        const log = trace(batchFresh({ size: 2 }), kind);
        expect(signals(log)).toEqual(signals(trace(bufferCount(2), kind)));
        // Each finalizer runs once, upstream first, and the output's after its last signal.
        expect(log.filter((line) => line === 'source finalize')).toHaveLength(1);
        expect(log.at(-1)).toBe('output finalize');
        expect(log.indexOf('source finalize')).toBeLessThan(log.indexOf('output finalize'));
      }
      // Pinned: the library hands a push source's terminal signal on after the source's own
      // teardown (lib/upstream.ts), so the source's finalizer runs before the partial batch is
      // flushed; bufferCount flushes and completes first.
      expect(trace(batchFresh({ size: 2 }), 'complete')).toEqual([
        'next [1,2]',
        'source finalize',
        'next [3]',
        'complete',
        'output finalize',
      ]);
      expect(trace(bufferCount(2), 'complete')).toEqual([
        'next [1,2]',
        'next [3]',
        'complete',
        'source finalize',
        'output finalize',
      ]);
    });

    it('a cancellation is passed upstream, and every stage counts the values it abandons', () => {
      const source = new Subject<number>();
      const buffer = bufferMonitor();
      const batches = batchMonitor();
      const stages = source.pipe(
        boundedBuffer({ capacity: 10, overflow: 'error', monitor: buffer }),
        batchFresh({ size: 2, maxPending: 2, monitor: batches }),
      );
      const handle = demandProtocolOf(stages)!.subscribe({ next() {}, error() {}, complete() {} });
      [1, 2, 3, 4, 5, 6, 7].forEach((v) => source.next(v)); // [1, 2] and [3, 4] wait; 5..7 never asked for
      handle.cancel({ reason: 'deadline' });
      expect(batches.snapshot()).toMatchObject({ received: 4, discarded: 2, valuesDiscarded: 4, valuesPending: 0 });
      expect(buffer.snapshot()).toMatchObject({ received: 7, emitted: 4, discarded: 3, depth: 0 });
      expect(source.observed).toBe(false);
    });
  });

  describe('properties', () => {
    type Step = { kind: 'value' } | { kind: 'wait'; frames: number } | { kind: 'request'; n: number };
    const step = fc.oneof(
      { weight: 4, arbitrary: fc.constant<Step>({ kind: 'value' }) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 8 }).map((frames): Step => ({ kind: 'wait', frames })) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 4 }).map((n): Step => ({ kind: 'request', n })) },
    );

    it('over random timelines: batches concatenate to the input, hold 1..size values, and never exceed demand', () => {
      fc.assert(
        fc.property(
          fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
          fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
          fc.integer({ min: 1, max: 3 }),
          fc.boolean(),
          fc.boolean(),
          fc.array(step, { maxLength: 60 }),
          (sizeOption, maxWaitOption, maxPending, pausable, freeze, script) => {
            const maxWait = sizeOption === undefined && maxWaitOption === undefined ? 3 : maxWaitOption;
            const size = sizeOption;
            const scheduler = virtualTime();
            const source = new Subject<number>();
            const monitor = batchMonitor();
            // A push source needs room for every batch the script can close without demand.
            const pending = pausable ? maxPending : 100;
            const input = pausable ? source.pipe(boundedBuffer({ capacity: 1000, overflow: 'error' })) : source;
            const p = probe(input.pipe(batchFresh({ size, maxWait, scheduler, maxPending: pending, freeze, monitor })));
            let sent = 0;
            let requested = 0;
            const check = (): void => {
              expect(p.errors).toEqual([]); // a batch without demand would be a ProtocolError
              expect(p.values.length).toBeLessThanOrEqual(requested);
              const s = monitor.snapshot();
              expect(s.pending).toBeLessThanOrEqual(pending);
              if (size !== undefined) expect(s.current).toBeLessThan(size);
              if (pausable && size !== undefined) {
                // Held by batchFresh: the waiting batches and one partial batch, nothing more.
                expect(s.received - s.valuesEmitted).toBeLessThanOrEqual(pending * size + size - 1);
              }
            };
            for (const s of script) {
              if (s.kind === 'value') source.next(sent++);
              else if (s.kind === 'wait') advance(scheduler, s.frames);
              else {
                requested += s.n;
                p.request(s.n);
              }
              check();
            }
            source.complete();
            check();
            // Drain: ask for one batch at a time, letting timers run between requests.
            for (let i = 0; i < sent + 2 && p.completions === 0; i++) {
              requested += 1;
              p.request(1);
              advance(scheduler, 10);
              check();
            }
            expect(p.completions).toBe(1);
            expect(p.values.flat()).toEqual(Array.from({ length: sent }, (_, i) => i));
            for (const batch of p.values) {
              expect(batch.length).toBeGreaterThanOrEqual(1);
              if (size !== undefined) expect(batch.length).toBeLessThanOrEqual(size);
              expect(Object.isFrozen(batch)).toBe(freeze);
            }
            expect(new Set(p.values).size).toBe(p.values.length); // every batch a distinct array
            expect(scheduler.actions).toEqual([]); // no timer left behind
            expect(monitor.snapshot()).toMatchObject({
              received: sent,
              emitted: p.values.length,
              valuesEmitted: sent,
              dropped: 0,
              discarded: 0,
              pending: 0,
              current: 0,
            });
          },
        ),
        { numRuns: 400 },
      );
    });

    it('with an ordinary subscriber in virtual time: same batches as bufferCount when only size is given', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.integer(), { maxLength: 40 }), (size, values) => {
          const batched: number[][] = [];
          const reference: number[][] = [];
          of(...values)
            .pipe(batchFresh({ size }))
            .subscribe((b) => batched.push(b));
          of(...values)
            .pipe(bufferCount(size))
            .subscribe((b) => reference.push(b));
          expect(batched).toEqual(reference);
        }),
        { numRuns: 200 },
      );
    });
  });
});
