import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  NEVER,
  Observable,
  Subject,
  concat,
  finalize,
  firstValueFrom,
  mergeMap,
  of,
  share,
  take,
  throwError,
  toArray,
  type MonoTypeOperatorFunction,
} from 'rxjs';
import {
  LagError,
  OverflowError,
  ProtocolError,
  broadcast,
  broadcastMonitor,
  channel,
  fromPull,
  isDemandAware,
  mergeWorkers,
  type BroadcastStats,
} from '../index.js';
import { Monitor } from '../lib/core/monitor.js';
import { PROTOCOL_VERSION, demandProtocolOf, toDemandObservable, type DemandObserver } from '../lib/core/protocol.js';
import { countingIterable, marbles, probe } from './helpers.js';

/** offered = emitted + dropped + discarded + held, the conservation law of the copies. */
function conserved(stats: BroadcastStats): void {
  expect(stats.offered).toBe(stats.emitted + stats.dropped + stats.discarded + stats.held);
}

describe('broadcast', () => {
  describe('public signature', () => {
    it('is a MonoTypeOperatorFunction returning a demand-aware Observable, with a typed monitor', () => {
      expectTypeOf(broadcast<number>()).toEqualTypeOf<MonoTypeOperatorFunction<number>>();
      expectTypeOf(broadcastMonitor()).toEqualTypeOf<Monitor<BroadcastStats>>();
      expect(isDemandAware(of(1).pipe(broadcast()))).toBe(true);
    });

    it('fails fast on bad options, naming broadcast and the parameter', () => {
      const bad: [unknown, RegExp, ErrorConstructor][] = [
        [{ maxLag: 0 }, /broadcast: 'maxLag' must be a positive integer, got 0/, RangeError],
        [{ connectAt: 1.5 }, /broadcast: 'connectAt' must be a positive integer, got 1.5/, RangeError],
        [{ maxLag: 1, onLag: 'skip' }, /broadcast: 'onLag' must be 'drop', 'error' or 'detach', got "skip"/, TypeError],
        [{ onLag: 'drop' }, /broadcast: 'onLag' needs 'maxLag'/, TypeError],
        [{ overflow: 'block' }, /'overflow'.*a pausable source is paused/, TypeError],
        [{ maxlag: 3 }, /broadcast: unknown option 'maxlag'; did you mean 'maxLag'\?/, TypeError],
        [42, /broadcast: 'options' must be an options object/, TypeError],
      ];
      for (const [options, message, type] of bad) {
        expect(() => broadcast(options as never)).toThrow(type);
        expect(() => broadcast(options as never)).toThrow(message);
      }
    });
  });

  describe('the slowest sets the pace (no maxLag)', () => {
    it('every subscriber gets every value; the source is asked for the smallest outstanding demand', () => {
      const src = countingIterable();
      const shared = fromPull(src.iterable).pipe(broadcast({ connectAt: 2 }));
      const fast = probe(shared);
      const slow = probe(shared);
      fast.request(10);
      slow.request(3);
      expect(fast.values).toEqual([0, 1, 2]);
      expect(slow.values).toEqual([0, 1, 2]);
      expect(src.pulled()).toBe(3);
      slow.request(1);
      expect(fast.values).toEqual([0, 1, 2, 3]);
      expect(src.pulled()).toBe(4);
      fast.cancel();
      slow.cancel();
      expect(src.returned()).toBe(true);
    });

    it('a subscriber that leaves releases its share of the pace at once', () => {
      const src = countingIterable();
      const shared = fromPull(src.iterable).pipe(broadcast({ connectAt: 2 }));
      const fast = probe(shared);
      const slow = probe(shared);
      fast.request(5);
      slow.request(1);
      expect(fast.values).toEqual([0]);
      slow.cancel();
      expect(fast.values).toEqual([0, 1, 2, 3, 4]);
      expect(src.pulled()).toBe(5);
      fast.cancel();
    });

    it('a plain subscriber is paced by the demand-aware one; alone, plain subscribers behave like share()', async () => {
      const src = countingIterable(5);
      const shared = fromPull(src.iterable).pipe(broadcast({ connectAt: 2 }));
      const plain: number[] = [];
      shared.subscribe((v) => plain.push(v));
      const pull = probe(shared);
      expect(plain).toEqual([]);
      pull.request(2);
      expect(plain).toEqual([0, 1]);
      pull.request(10);
      expect(plain).toEqual([0, 1, 2, 3, 4]);
      expect(pull.completions).toBe(1);

      const both = fromPull([1, 2, 3]).pipe(broadcast({ connectAt: 2 }));
      const [a, b] = await Promise.all([firstValueFrom(both.pipe(toArray())), firstValueFrom(both.pipe(toArray()))]);
      expect(a).toEqual([1, 2, 3]);
      expect(b).toEqual([1, 2, 3]);
    });

    it('share(), by contrast, asks a pausable source for everything: the slow consumer is not heard (pinned)', () => {
      const src = countingIterable(1000);
      const shared = fromPull(src.iterable).pipe(share());
      shared.pipe(take(1)).subscribe();
      expect(src.pulled()).toBe(1);
      const all: number[] = [];
      shared.subscribe((v) => all.push(v));
      // 1 for the first subscription, then all 1000 for one subscriber: no demand crosses share().
      expect(src.pulled()).toBe(1001);
    });

    it('a late subscriber gets the values that arrive after it joined, and holds those already on their way', () => {
      const ch = channel<number>({ capacity: 10 });
      const monitor = broadcastMonitor();
      const shared = ch.observable.pipe(broadcast({ monitor }));
      const early = probe(shared);
      early.request(3);
      ch.trySend(1);
      const late = probe(shared);
      ch.trySend(2);
      ch.trySend(3);
      expect(early.values).toEqual([1, 2, 3]);
      expect(late.values).toEqual([]);
      expect(monitor.snapshot()).toMatchObject({ held: 2, subscribers: 2 });
      ch.trySend(4); // nobody asked for it: it waits in the channel
      expect(monitor.snapshot().received).toBe(3);
      late.request(1);
      expect(late.values).toEqual([2]);
      late.request(5);
      expect(late.values).toEqual([2, 3]);
      early.request(1);
      expect(early.values).toEqual([1, 2, 3, 4]);
      expect(late.values).toEqual([2, 3, 4]);
      conserved(monitor.snapshot());
      early.cancel();
      late.cancel();
    });

    it('with only plain subscribers, at most BROADCAST_MAX_IN_FLIGHT values are asked for at a time', () => {
      const requests: number[] = [];
      let observer: DemandObserver<number> | undefined;
      const source = toDemandObservable<number>({
        version: PROTOCOL_VERSION,
        subscribe(o) {
          observer = o;
          const handle = { request: (n: number) => void requests.push(n), cancel: () => undefined };
          o.start?.(handle);
          return handle;
        },
      });
      const got: number[] = [];
      source.pipe(broadcast()).subscribe((v) => got.push(v));
      expect(requests).toEqual([64]);
      for (let i = 0; i < 31; i++) observer!.next(i);
      expect(requests).toEqual([64]);
      observer!.next(31);
      expect(requests).toEqual([64, 32]); // topped up in halves, not once per value
      expect(got).toHaveLength(32);
    });
  });

  describe('maxLag and the lag policy', () => {
    it("'drop': the fastest sets the pace; a laggard keeps maxLag values and misses the rest, counted", () => {
      const src = countingIterable(10);
      const dropped: [number, number][] = [];
      const monitor = broadcastMonitor();
      const shared = fromPull(src.iterable).pipe(
        broadcast({
          connectAt: 2,
          maxLag: 2,
          onLag: 'drop',
          monitor,
          onDrop: (v, e) => dropped.push([v, e.subscriber]),
        }),
      );
      const slow = probe(shared);
      const fast: number[] = [];
      shared.subscribe((v) => fast.push(v));
      expect(fast).toHaveLength(10);
      expect(slow.values).toEqual([]);
      slow.request(10);
      expect(slow.values).toEqual([0, 1]);
      expect(slow.completions).toBe(1);
      expect(dropped).toEqual([2, 3, 4, 5, 6, 7, 8, 9].map((v) => [v, 1]));
      expect(monitor.snapshot()).toMatchObject({ received: 10, offered: 20, emitted: 12, dropped: 8, held: 0 });
      conserved(monitor.snapshot());
    });

    it("[BP-07] library: a laggard's dropped values are counted in the monitor and passed to onDrop, with the subscriber", () => {
      const monitor = broadcastMonitor();
      const seen: string[] = [];
      const shared = fromPull(['a', 'b', 'c', 'd']).pipe(
        broadcast({
          connectAt: 2,
          maxLag: 1,
          onLag: 'drop',
          monitor,
          onDrop: (v, e) => seen.push(`${v}@${e.subscriber}`),
        }),
      );
      const slow = probe(shared);
      shared.subscribe();
      slow.request(5);
      expect(slow.values).toEqual(['a']);
      expect(seen).toEqual(['b@1', 'c@1', 'd@1']);
      expect(monitor.snapshot()).toMatchObject({ dropped: 3, emitted: 5, offered: 8 });
      conserved(monitor.snapshot());
    });

    it("'error': the laggard fails with a LagError, what it held is discarded and counted, the others go on", () => {
      const monitor = broadcastMonitor();
      const shared = fromPull([1, 2, 3, 4]).pipe(broadcast({ connectAt: 2, maxLag: 1, monitor }));
      const slow = probe(shared);
      const fast: number[] = [];
      shared.subscribe({ next: (v) => fast.push(v), complete: () => fast.push(-1) });
      expect(fast).toEqual([1, 2, 3, 4, -1]);
      expect(slow.errors).toEqual([new LagError('broadcast', 1)]);
      expect(monitor.snapshot()).toMatchObject({ discarded: 2, laggards: 1, held: 0 });
      conserved(monitor.snapshot());
    });

    it("'detach': the laggard gets no new values, then the ones it holds, then completes", () => {
      const shared = fromPull([1, 2, 3, 4]).pipe(broadcast({ connectAt: 2, maxLag: 2, onLag: 'detach' }));
      const slow = probe(shared);
      const fast: number[] = [];
      shared.subscribe((v) => fast.push(v));
      expect(fast).toEqual([1, 2, 3, 4]);
      expect(slow.completions).toBe(0);
      slow.request(1);
      expect(slow.values).toEqual([1]);
      expect(slow.completions).toBe(0);
      slow.request(1);
      expect(slow.values).toEqual([1, 2]);
      expect(slow.completions).toBe(1);
    });

    it('a throwing onDrop fails that subscriber with what it threw', () => {
      const boom = new Error('onDrop threw');
      const shared = fromPull([1, 2, 3]).pipe(
        broadcast({
          connectAt: 2,
          maxLag: 1,
          onLag: 'drop',
          onDrop: () => {
            throw boom;
          },
        }),
      );
      const slow = probe(shared);
      const fast: number[] = [];
      shared.subscribe((v) => fast.push(v));
      expect(fast).toEqual([1, 2, 3]);
      expect(slow.errors).toEqual([boom]);
    });
  });

  describe('connection', () => {
    it('connectAt: the source is subscribed when that many subscribers are present', () => {
      const src = countingIterable(3);
      const shared = fromPull(src.iterable).pipe(broadcast({ connectAt: 3 }));
      const a: number[] = [];
      const b: number[] = [];
      shared.subscribe((v) => a.push(v));
      shared.subscribe((v) => b.push(v));
      expect(src.pulled()).toBe(0);
      const c = probe(shared);
      c.request(3);
      expect([a, b, c.values]).toEqual([
        [0, 1, 2],
        [0, 1, 2],
        [0, 1, 2],
      ]);
    });

    it('refCount: the source is released when the last subscriber leaves, and a later one connects afresh', () => {
      let subscriptions = 0;
      let open = 0;
      const source = new Observable<number>((subscriber) => {
        subscriptions++;
        open++;
        subscriber.next(subscriptions);
        return () => open--;
      });
      const monitor = broadcastMonitor();
      const shared = source.pipe(broadcast({ monitor }));
      const first = shared.subscribe();
      const second = shared.subscribe();
      expect(open).toBe(1);
      first.unsubscribe();
      expect(open).toBe(1);
      second.unsubscribe();
      expect(open).toBe(0);
      const values: number[] = [];
      const third = shared.subscribe((v) => values.push(v));
      expect(values).toEqual([2]);
      expect(monitor.snapshot().connections).toBe(2);
      third.unsubscribe();
    });

    it('after the source completes, every subscriber completes, and the next subscriber starts it again', async () => {
      const shared = fromPull([1, 2]).pipe(broadcast());
      expect(await firstValueFrom(shared.pipe(toArray()))).toEqual([1, 2]);
      expect(await firstValueFrom(shared.pipe(toArray()))).toEqual([1, 2]);
    });

    it('a source error reaches every subscriber at once, and what they held is discarded and counted', () => {
      const ch = channel<number>({ capacity: 4 });
      const source = new Subject<number>();
      const monitor = broadcastMonitor();
      const shared = concat(ch.observable.pipe(take(0)), source).pipe(broadcast({ connectAt: 2, maxLag: 4, monitor }));
      const a = probe(shared);
      const b: unknown[] = [];
      shared.subscribe({ next: (v) => b.push(v), error: (e) => b.push(e) });
      source.next(1);
      source.next(2);
      source.error('boom');
      expect(a.errors).toEqual(['boom']);
      expect(b).toEqual([1, 2, 'boom']);
      expect(monitor.snapshot()).toMatchObject({ discarded: 2, held: 0 });
      conserved(monitor.snapshot());
    });

    it('a source error reaches only the subscribers of that connection, not one still draining an earlier one', () => {
      let round = 0;
      const source = new Observable<number>((subscriber) => {
        round++;
        if (round === 1) {
          subscriber.next(1);
          subscriber.next(2);
          subscriber.complete();
        } else subscriber.error('second round failed');
      });
      const shared = source.pipe(broadcast({ connectAt: 2, maxLag: 2, onLag: 'detach' }));
      const draining = probe(shared);
      shared.subscribe();
      expect(draining.values).toEqual([]); // holds 1 and 2; the first round has completed
      const next: unknown[] = [];
      shared.subscribe({ error: (e) => next.push(e) });
      shared.subscribe({ error: (e) => next.push(e) });
      expect(next).toEqual(['second round failed', 'second round failed']);
      expect(draining.errors).toEqual([]);
      draining.request(5);
      expect(draining.values).toEqual([1, 2]);
      expect(draining.completions).toBe(1);
    });

    it('a push source is absorbed by the bounded queue, and fails with an OverflowError when it is full', () => {
      const source = new Subject<number>();
      const shared = source.pipe(broadcast({ capacity: 2 }));
      const p = probe(shared);
      p.request(1);
      for (let i = 0; i < 4; i++) source.next(i);
      expect(p.values).toEqual([0]);
      expect(p.errors).toEqual([new OverflowError('broadcast', 2, 'error')]);
      expect(source.observed).toBe(false);
    });
  });

  describe('canonical cases', () => {
    it('never: nothing, subscribed until the end', () => {
      marbles(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-');
        expectObservable(source.pipe(broadcast()), '---!').toBe('---');
        expectSubscriptions(source.subscriptions).toBe('^--!');
      });
    });

    it('empty: completes at once', () => {
      marbles(({ cold, expectObservable }) => {
        expectObservable(cold('|').pipe(broadcast())).toBe('|');
      });
    });

    it('values and error, to one subscriber, pass as they come', () => {
      marbles(({ cold, expectObservable }) => {
        expectObservable(cold('a-b-#').pipe(broadcast())).toBe('a-b-#');
      });
    });

    it('does not break unsubscription chains when the result is unsubscribed explicitly', () => {
      marbles(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('-a-b-c-d-|');
        const result = source.pipe(
          mergeMap((x) => of(x)),
          broadcast(),
          mergeMap((x) => of(x)),
        );
        expectObservable(result, '------!').toBe('-a-b-c');
        expectSubscriptions(source.subscriptions).toBe('^-----!');
      });
    });

    it('a synchronous endless source is stopped by take downstream', () => {
      let emitted = 0;
      const endless = new Observable<number>((subscriber) => {
        while (!subscriber.closed && emitted < 10_000) subscriber.next(emitted++);
      });
      const out: number[] = [];
      endless.pipe(broadcast(), take(3)).subscribe((v) => out.push(v));
      expect(out).toEqual([0, 1, 2]);
      expect(emitted).toBeLessThan(10_000);
    });

    it('a synchronous pausable source is asked for no more than take needs', () => {
      const src = countingIterable();
      const shared = fromPull(src.iterable).pipe(broadcast({ connectAt: 2 }));
      const a: number[] = [];
      shared.pipe(take(3)).subscribe((v) => a.push(v));
      const pull = probe(shared);
      pull.request(3);
      expect(a).toEqual([0, 1, 2]);
      expect(src.pulled()).toBe(3);
      pull.cancel();
      expect(src.returned()).toBe(true);
    });

    it('reentrancy: requesting from inside next, 100,000 synchronous values, no stack overflow', () => {
      const shared = fromPull(Array.from({ length: 100_000 }, (_, i) => i)).pipe(broadcast({ connectAt: 2 }));
      const a = probe(shared, (_, self) => self.request(1));
      const b = probe(shared, (_, self) => self.request(1));
      a.request(1);
      b.request(1);
      expect(a.values).toHaveLength(100_000);
      expect(b.values).toHaveLength(100_000);
      expect(a.completions + b.completions).toBe(2);
    });

    it('a consumer that pushes into the source from inside next: every subscriber sees every value once, in order', () => {
      const subject = new Subject<number>();
      const shared = subject.pipe(broadcast());
      const a: number[] = [];
      const b: number[] = [];
      shared.subscribe((v) => {
        a.push(v);
        if (v < 5) subject.next(v + 1);
      });
      shared.subscribe((v) => b.push(v));
      subject.next(0);
      expect(a).toEqual([0, 1, 2, 3, 4, 5]);
      expect(b).toEqual([0, 1, 2, 3, 4, 5]);
    });

    it('a subscriber that subscribes from inside next gets the later values only', () => {
      const subject = new Subject<number>();
      const shared = subject.pipe(broadcast());
      const late: number[] = [];
      shared.subscribe((v) => {
        if (v === 1) shared.subscribe((w) => late.push(w));
      });
      [1, 2, 3].forEach((v) => subject.next(v));
      expect(late).toEqual([2, 3]);
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
            broadcast(),
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

    it('a value the source was not asked for is a ProtocolError (rule 1.1) to every subscriber', () => {
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
      const p = probe(rogue.pipe(broadcast()), undefined, 1);
      observer!.next(1);
      observer!.next(2);
      expect(p.values).toEqual([1]);
      expect(p.errors[0]).toBeInstanceOf(ProtocolError);
      expect((p.errors[0] as Error).message).toMatch(/^broadcast: .*rule 1\.1/);
    });

    it("a subscriber's cancellation counts what it held as discarded, and is not passed to the shared source", () => {
      const ch = channel<number>({ capacity: 4 });
      const monitor = broadcastMonitor();
      const shared = ch.observable.pipe(broadcast({ maxLag: 4, onLag: 'drop', monitor }));
      const slow = probe(shared);
      const fast: number[] = [];
      shared.subscribe((v) => fast.push(v));
      [1, 2, 3].forEach((v) => ch.trySend(v));
      expect(fast).toEqual([1, 2, 3]);
      slow.cancel();
      const handle = demandProtocolOf(shared)!.subscribe({ next() {}, error() {}, complete() {} });
      [4, 5].forEach((v) => ch.trySend(v));
      const before = monitor.snapshot().discarded;
      handle.cancel({ reason: 'deadline' });
      expect(monitor.snapshot().discarded - before).toBe(2);
      ch.trySend(6);
      expect(fast).toEqual([1, 2, 3, 4, 5, 6]); // the source is still connected for the others
    });

    it('feeds library stages: two pools share one source, read at the pace of the slower pool', async () => {
      const src = countingIterable(20);
      const shared = fromPull(src.iterable).pipe(broadcast({ connectAt: 2 }));
      const work = (v: number) => Promise.resolve(v);
      const [a, b] = await Promise.all([
        firstValueFrom(shared.pipe(mergeWorkers(work, { concurrency: 4 }), toArray())),
        firstValueFrom(shared.pipe(mergeWorkers(work, { concurrency: 1 }), toArray())),
      ]);
      expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(b).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });
  });
});
