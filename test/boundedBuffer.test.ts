import { describe, expect, expectTypeOf, it } from 'vitest';
import { Observable, Subject, map, range, take, toArray, firstValueFrom, type MonoTypeOperatorFunction } from 'rxjs';
import fc from 'fast-check';
import { OverflowError, boundedBuffer, bufferMonitor, channel, fromPull, type OverflowPolicy } from '../index.js';
import { countingIterable, marbles, probe } from './helpers.js';

describe('boundedBuffer', () => {
  it('has the public signature of a pipeable operator', () => {
    expectTypeOf(boundedBuffer<number>({ capacity: 1, overflow: 'error' })).toEqualTypeOf<
      MonoTypeOperatorFunction<number>
    >();
    // @ts-expect-error overflow is required: the policy must be chosen explicitly
    expect(() => boundedBuffer({ capacity: 1 })).toThrow(TypeError);
  });

  it('fails fast on bad options, naming the operator and the parameter', () => {
    const bad: [unknown, RegExp, ErrorConstructor][] = [
      [{ capacity: 0, overflow: 'error' }, /boundedBuffer: 'capacity' must be a positive integer, got 0/, RangeError],
      [{ capacity: -1, overflow: 'error' }, /'capacity'.*got -1/, RangeError],
      [{ capacity: NaN, overflow: 'error' }, /'capacity'.*got NaN/, RangeError],
      [{ capacity: 1.5, overflow: 'error' }, /'capacity'.*got 1.5/, RangeError],
      [{ capacity: Infinity, overflow: 'error' }, /'capacity'.*got Infinity/, RangeError],
      [{ capacity: '3', overflow: 'error' }, /'capacity'.*got "3"/, TypeError],
      [{ capacity: 3 }, /'overflow' must be one of .*required/, TypeError],
      [{ capacity: 3, overflow: 'drop-latest' }, /'overflow' must be one of/, TypeError],
      [{ capacity: 3, overflow: 'error', onDrop: 1 }, /'onDrop' must be a function/, TypeError],
      [
        { capacity: 3, overflow: 'error', monitor: {} },
        /'monitor' must be a monitor from bufferMonitor\(\)/,
        TypeError,
      ],
      [undefined, /boundedBuffer: 'options' must be an options object/, TypeError],
    ];
    for (const [options, message, type] of bad) {
      expect(() => boundedBuffer(options as never)).toThrow(type);
      expect(() => boundedBuffer(options as never)).toThrow(message);
    }
  });

  it('passes values straight through to an ordinary subscriber (unbounded demand)', async () => {
    const out = await firstValueFrom(
      range(0, 100_000).pipe(boundedBuffer({ capacity: 2, overflow: 'error' }), toArray()),
    );
    expect(out).toHaveLength(100_000);
    expect(out[99_999]).toBe(99_999);
  });

  it('drop-newest keeps the queue and drops arrivals, counting each', () => {
    const src = new Subject<number>();
    const dropped: number[] = [];
    const monitor = bufferMonitor();
    const p = probe(
      src.pipe(boundedBuffer({ capacity: 2, overflow: 'drop-newest', monitor, onDrop: (v) => dropped.push(v) })),
    );
    p.request(1); // connects; takes the first value directly
    for (let i = 1; i <= 5; i++) src.next(i);
    expect(p.values).toEqual([1]);
    expect(dropped).toEqual([4, 5]);
    p.request(10);
    expect(p.values).toEqual([1, 2, 3]);
    expect(monitor.snapshot()).toEqual({ received: 5, emitted: 3, dropped: 2, discarded: 0, depth: 0, highWater: 2 });
  });

  it('drop-oldest evicts the head to make room', () => {
    const src = new Subject<number>();
    const dropped: number[] = [];
    const p = probe(src.pipe(boundedBuffer({ capacity: 2, overflow: 'drop-oldest', onDrop: (v) => dropped.push(v) })));
    p.request(1);
    for (let i = 1; i <= 5; i++) src.next(i);
    p.request(10);
    expect(p.values).toEqual([1, 4, 5]);
    expect(dropped).toEqual([2, 3]);
  });

  it('error raises an OverflowError naming operator, capacity and policy, and unsubscribes upstream', () => {
    let unsubscribed = false;
    const src = new Subject<number>();
    const watched = new Observable<number>((s) => {
      const sub = src.subscribe(s);
      return () => {
        unsubscribed = true;
        sub.unsubscribe();
      };
    });
    const p = probe(watched.pipe(boundedBuffer({ capacity: 1, overflow: 'error' })));
    p.request(1);
    src.next(1);
    src.next(2);
    src.next(3);
    expect(p.values).toEqual([1]);
    expect(p.errors[0]).toBeInstanceOf(OverflowError);
    expect((p.errors[0] as Error).message).toBe("boundedBuffer: queue overflow (capacity 1, overflow policy 'error')");
    expect(unsubscribed).toBe(true);
    expect(src.observed).toBe(false);
  });

  it('block refuses a source that cannot be paused, at subscribe time, with the fix in the message', () => {
    let error: unknown;
    range(0, 3)
      .pipe(boundedBuffer({ capacity: 1, overflow: 'block' }))
      .subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(TypeError);
    expect(String(error)).toMatch(/boundedBuffer: overflow 'block' needs a source that can be paused/);
    expect(String(error)).toMatch(/native operator such as map/);
  });

  it('block pulls only what fits from a pausable source, releasing credit as values leave', () => {
    const src = countingIterable(1000);
    const monitor = bufferMonitor();
    const p = probe(fromPull(src.iterable).pipe(boundedBuffer({ capacity: 3, overflow: 'block', monitor })));
    p.request(1);
    expect(p.values).toEqual([0]);
    expect(src.pulled()).toBe(4); // one delivered, three queued
    expect(monitor.snapshot().depth).toBe(3);
    p.request(2);
    expect(p.values).toEqual([0, 1, 2]);
    expect(src.pulled()).toBe(6);
    expect(monitor.snapshot().highWater).toBe(3);
    p.cancel();
    expect(src.returned()).toBe(true);
    expect(monitor.snapshot().discarded).toBe(3);
  });

  it('block stops metering when downstream demand is unbounded', async () => {
    const out = await firstValueFrom(
      fromPull(countingIterable(50_000).iterable).pipe(boundedBuffer({ capacity: 1, overflow: 'block' }), toArray()),
    );
    expect(out).toHaveLength(50_000);
  });

  it('completes after the queued values, even with no outstanding demand', () => {
    const src = new Subject<number>();
    const p = probe(src.pipe(boundedBuffer({ capacity: 4, overflow: 'error' })));
    p.request(1);
    src.next(1);
    src.next(2);
    src.complete();
    expect(p.completions).toBe(0);
    p.request(1);
    expect(p.values).toEqual([1, 2]);
    expect(p.completions).toBe(1);
  });

  it('errors at once by default, discarding (and counting) the queue; delayError delivers the queue first', () => {
    for (const delayError of [false, true]) {
      const src = new Subject<number>();
      const monitor = bufferMonitor();
      const p = probe(src.pipe(boundedBuffer({ capacity: 4, overflow: 'error', monitor, delayError })));
      p.request(1);
      src.next(1);
      src.next(2);
      src.next(3);
      src.error(new Error('boom'));
      if (delayError) {
        expect(p.errors).toEqual([]);
        p.request(5);
        expect(p.values).toEqual([1, 2, 3]);
      } else {
        expect(p.values).toEqual([1]);
        expect(monitor.snapshot().discarded).toBe(2);
      }
      expect(String(p.errors[0])).toBe('Error: boom');
      expect(p.afterTerminal).toBe(0);
    }
  });

  it('errors with what onDrop throws, and stops the source', () => {
    const src = new Subject<number>();
    const p = probe(
      src.pipe(
        boundedBuffer({
          capacity: 1,
          overflow: 'drop-newest',
          onDrop: () => {
            throw new Error('metrics down');
          },
        }),
      ),
    );
    p.request(1);
    src.next(1);
    src.next(2);
    src.next(3);
    expect(String(p.errors[0])).toBe('Error: metrics down');
    expect(src.observed).toBe(false);
  });

  it('survives 100,000 synchronous values under every policy without stack overflow', () => {
    const policies: OverflowPolicy[] = ['drop-newest', 'drop-oldest', 'error', 'block'];
    for (const overflow of policies) {
      const source = overflow === 'block' ? fromPull(countingIterable(100_000).iterable) : range(0, 100_000);
      let count = 0;
      const p = probe(
        source.pipe(boundedBuffer({ capacity: 16, overflow })),
        (_v, self) => {
          count++;
          self.request(1);
        },
        1,
      );
      if (overflow === 'block') {
        expect(count).toBe(100_000);
        expect(p.completions).toBe(1);
      } else {
        // A push source delivers all it has inside subscribe; the consumer keeps up one by one.
        expect(count).toBe(100_000);
      }
    }
  });

  it('stops an endless synchronous push source on overflow error', () => {
    let emitted = 0;
    const endless = new Observable<number>((s) => {
      while (!s.closed) s.next(emitted++);
    });
    const p = probe(endless.pipe(boundedBuffer({ capacity: 3, overflow: 'error' })), undefined, 1);
    expect(p.errors[0]).toBeInstanceOf(OverflowError);
    expect(emitted).toBe(5); // 1 delivered + 3 queued + the one that overflowed
  });

  it('works with a channel upstream and a synchronous take downstream', async () => {
    const ch = channel<number>({ capacity: 10 });
    for (let i = 0; i < 10; i++) ch.trySend(i);
    const out = await firstValueFrom(
      ch.observable.pipe(boundedBuffer({ capacity: 2, overflow: 'block' }), take(3), toArray()),
    );
    expect(out).toEqual([0, 1, 2]);
    expect(ch.size).toBe(7); // take(3) stopped the synchronous burst after three values
  });

  it('property: under drop policies, values in = values out + dropped (+ still queued)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom<OverflowPolicy>('drop-newest', 'drop-oldest'),
        fc.array(fc.oneof(fc.constant('v' as const), fc.integer({ min: 1, max: 5 })), { maxLength: 60 }),
        (capacity, overflow, script) => {
          const src = new Subject<number>();
          const monitor = bufferMonitor();
          let dropCalls = 0;
          const p = probe(src.pipe(boundedBuffer({ capacity, overflow, monitor, onDrop: () => dropCalls++ })));
          let sent = 0;
          for (const step of script) {
            if (step === 'v') src.next(sent++);
            else p.request(step);
            const s = monitor.snapshot();
            expect(s.depth).toBeLessThanOrEqual(capacity);
          }
          const s = monitor.snapshot();
          expect(s.received).toBe(sent);
          expect(p.values.length + s.dropped + s.depth).toBe(sent);
          expect(dropCalls).toBe(s.dropped);
          // Order is kept among the survivors.
          expect([...p.values].sort((a, b) => a - b)).toEqual(p.values);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: under block with a pausable source nothing is lost and depth never exceeds capacity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 80 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 40 }),
        (capacity, total, requests) => {
          const src = countingIterable(total);
          const monitor = bufferMonitor();
          const p = probe(fromPull(src.iterable).pipe(boundedBuffer({ capacity, overflow: 'block', monitor })));
          let asked = 0;
          for (const n of requests) {
            p.request(n);
            asked += n;
            expect(monitor.snapshot().depth).toBeLessThanOrEqual(capacity);
            expect(src.pulled() - p.values.length).toBeLessThanOrEqual(capacity);
          }
          p.request(total + 1);
          expect(p.values).toEqual(Array.from({ length: total }, (_, i) => i));
          expect(p.completions).toBe(1);
          expect(monitor.snapshot().dropped).toBe(0);
          void asked;
        },
      ),
      { numRuns: 300 },
    );
  });
  void map;
});

describe('boundedBuffer over a push source whose teardown unsubscribes the subscriber it was given', () => {
  it('still completes, after the source is released (marbles)', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const inner = cold<string>('a-b|');
      // A common way to write a source: subscribe the given subscriber onward, and unsubscribe
      // it in the teardown. The completion must survive that unsubscribe.
      const source = new Observable<string>((subscriber) => {
        const onward = inner.subscribe(subscriber);
        return () => onward.unsubscribe();
      });
      expectObservable(source.pipe(boundedBuffer<string>({ capacity: 2, overflow: 'error' }))).toBe('a-b|');
      expectSubscriptions(inner.subscriptions).toBe('^--!');
    });
  });
});
