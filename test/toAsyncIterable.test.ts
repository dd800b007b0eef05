import { describe, expect, expectTypeOf, it } from 'vitest';
import { EMPTY, NEVER, Observable, Subject, finalize, of, range, take, throwError } from 'rxjs';
import { eachValueFrom } from 'rxjs-for-await';
import {
  DEMAND,
  OverflowError,
  PROTOCOL_VERSION,
  ProtocolError,
  bufferMonitor,
  channel,
  fromPull,
  toAsyncIterable,
  type DemandProtocol,
} from '../index.js';
import { countingIterable } from './helpers.js';

/** Lets every queued promise reaction run (a macrotask comes after all microtasks). */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function collect<T>(iterable: AsyncIterable<T>, limit = Infinity): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) {
    out.push(value);
    if (out.length >= limit) break;
  }
  return out;
}

/** A plain (push) Observable that records subscriptions and unsubscriptions. */
function watched<T>(inner: Observable<T>): {
  source: Observable<T>;
  subscribed: () => number;
  unsubscribed: () => number;
} {
  let subscribed = 0;
  let unsubscribed = 0;
  const source = new Observable<T>((subscriber) => {
    subscribed++;
    const sub = inner.subscribe(subscriber);
    return () => {
      unsubscribed++;
      sub.unsubscribe();
    };
  });
  return { source, subscribed: () => subscribed, unsubscribed: () => unsubscribed };
}

describe('toAsyncIterable: options', () => {
  it('returns an AsyncIterableIterator', () => {
    expectTypeOf(toAsyncIterable(of(1))).toEqualTypeOf<AsyncIterableIterator<number>>();
    const it = toAsyncIterable(of(1));
    expect(it[Symbol.asyncIterator]()).toBe(it);
  });

  it('fails fast on bad options, naming toAsyncIterable and the parameter', () => {
    const bad: [unknown, RegExp, ErrorConstructor][] = [
      [{ capacity: 0 }, /^toAsyncIterable: 'capacity' must be a positive integer, got 0$/, RangeError],
      [{ capacity: -3 }, /^toAsyncIterable: 'capacity' .* got -3$/, RangeError],
      [{ capacity: 2.5 }, /^toAsyncIterable: 'capacity' .* got 2.5$/, RangeError],
      [{ capacity: '8' }, /^toAsyncIterable: 'capacity' .* got "8"$/, TypeError],
      [
        { overflow: 'block' },
        /^toAsyncIterable: 'overflow' must be 'drop-newest', 'drop-oldest' or 'error', got "block"$/,
        TypeError,
      ],
      // The message never offers 'block', which is refused.
      [
        { overflow: 'drop-latest' },
        /^toAsyncIterable: 'overflow' must be 'drop-newest', 'drop-oldest' or 'error', got "drop-latest"$/,
        TypeError,
      ],
      [{ onDrop: 'log' }, /^toAsyncIterable: 'onDrop' must be a function, got "log"$/, TypeError],
      [
        { monitor: {} },
        /^toAsyncIterable: 'monitor' must be a monitor from bufferMonitor\(\), got an object$/,
        TypeError,
      ],
      [7, /^toAsyncIterable: 'options' must be an options object, got 7$/, TypeError],
    ];
    for (const [options, message, type] of bad) {
      expect(() => toAsyncIterable(of(1), options as never), JSON.stringify(options)).toThrow(type);
      expect(() => toAsyncIterable(of(1), options as never), JSON.stringify(options)).toThrow(message);
    }
  });

  it('refuses a source speaking another protocol version, at once', () => {
    const alien = new Observable<number>();
    Object.defineProperty(alien, DEMAND, { value: { version: PROTOCOL_VERSION + 1, subscribe: () => undefined } });
    expect(() => toAsyncIterable(alien)).toThrow(ProtocolError);
  });
});

describe('toAsyncIterable: a demand-aware source is pulled one value per iteration', () => {
  it('pulls exactly one value per next(), and nothing before the first', async () => {
    const src = countingIterable(100);
    const it = toAsyncIterable(fromPull(src.iterable));
    await flush();
    expect(src.pulled()).toBe(0); // subscribed at the first iteration, not before
    for (let i = 0; i < 5; i++) {
      expect(await it.next()).toEqual({ value: i, done: false });
      await flush();
      expect(src.pulled()).toBe(i + 1);
    }
    await it.return?.();
    expect(src.returned()).toBe(true);
    expect(src.pulled()).toBe(5);
  });

  it('values, then done, in a for-await loop', async () => {
    expect(await collect(toAsyncIterable(fromPull([1, 2, 3])))).toEqual([1, 2, 3]);
  });

  it('empty: the loop body never runs', async () => {
    expect(await collect(toAsyncIterable(fromPull([])))).toEqual([]);
    expect(await collect(toAsyncIterable(EMPTY))).toEqual([]);
  });

  it('never: next() stays pending; return() settles it as done and unsubscribes', async () => {
    let cancelled = 0;
    const never = fromPull<number>({
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<number>>(() => undefined),
        return: () => {
          cancelled++;
          return Promise.resolve({ done: true, value: undefined });
        },
      }),
    });
    const it = toAsyncIterable(never);
    let settled: IteratorResult<number> | undefined;
    const pending = it.next().then((r) => (settled = r));
    await flush();
    expect(settled).toBeUndefined();
    await it.return?.();
    await pending;
    expect(settled).toEqual({ value: undefined, done: true });
    expect(cancelled).toBe(1);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('never (push): NEVER keeps the loop waiting until return()', async () => {
    const it = toAsyncIterable(NEVER);
    const pending = it.next();
    await flush();
    await it.return?.();
    expect(await pending).toEqual({ value: undefined, done: true });
  });

  it('error: what the source throws is thrown inside the loop, after the values before it', async () => {
    function* failing() {
      yield 1;
      yield 2;
      throw new Error('parse error on line 3');
    }
    const seen: number[] = [];
    const err: unknown = await (async () => {
      for await (const v of toAsyncIterable(fromPull(failing()))) seen.push(v);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1, 2]);
    expect(String(err)).toBe('Error: parse error on line 3');
  });

  it('after the error has been thrown once, the iterator is done', async () => {
    const it = toAsyncIterable(throwError(() => new Error('once')));
    await expect(it.next()).rejects.toThrow('once');
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('return() after an error nobody has read yet: the iterator is done, the error is not thrown later', async () => {
    const subject = new Subject<number>();
    const it = toAsyncIterable(subject);
    const first = it.next();
    subject.next(1);
    expect(await first).toEqual({ value: 1, done: false });
    subject.error(new Error('unread'));
    await it.return?.();
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('a source that throws while subscribing fails the loop once and leaves no subscription behind', async () => {
    const protocol: DemandProtocol<number> = {
      version: PROTOCOL_VERSION,
      subscribe(observer) {
        observer.start?.({ request: () => undefined, cancel: () => (cancels += 1) });
        throw new Error('subscribe failed');
      },
    };
    let cancels = 0;
    const source = new Observable<number>();
    Object.defineProperty(source, DEMAND, { value: protocol });
    const it = toAsyncIterable(source);
    await expect(it.next()).rejects.toThrow('subscribe failed');
    expect(cancels).toBe(1);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('never-ending: break after n leaves the rest of an endless generator unread, and closes it', async () => {
    const src = countingIterable();
    expect(await collect(toAsyncIterable(fromPull(src.iterable)), 7)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(src.pulled()).toBe(7);
    expect(src.returned()).toBe(true);
  });

  it("break unsubscribes: the generator's finally and the pipeline's finalize run before the loop moves on", async () => {
    const log: string[] = [];
    function* gen() {
      try {
        for (let i = 0; ; i++) {
          log.push(`pull ${i}`);
          yield i;
        }
      } finally {
        log.push('generator finally');
      }
    }
    for await (const v of toAsyncIterable(fromPull(gen()))) {
      log.push(`loop ${v}`);
      if (v >= 1) break;
    }
    log.push('after loop');
    expect(log).toEqual(['pull 0', 'loop 0', 'pull 1', 'loop 1', 'generator finally', 'after loop']);
  });

  it('a loop body that throws unsubscribes the source and the error leaves the loop', async () => {
    const src = countingIterable();
    const err: unknown = await (async () => {
      for await (const v of toAsyncIterable(fromPull(src.iterable))) {
        if (v === 2) throw new Error('handler failed');
      }
    })().catch((e: unknown) => e);
    expect(String(err)).toBe('Error: handler failed');
    expect(src.returned()).toBe(true);
    expect(src.pulled()).toBe(3);
  });

  it('throw() unsubscribes and rejects with its argument', async () => {
    const src = countingIterable();
    const it = toAsyncIterable(fromPull(src.iterable));
    await it.next();
    await expect(it.throw?.(new Error('stop'))).rejects.toThrow('stop');
    expect(src.returned()).toBe(true);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('concurrent next() calls each pull one value and resolve in order', async () => {
    const src = countingIterable(3);
    const it = toAsyncIterable(fromPull(src.iterable));
    const results = await Promise.all([it.next(), it.next(), it.next(), it.next()]);
    expect(results).toEqual([
      { value: 0, done: false },
      { value: 1, done: false },
      { value: 2, done: false },
      { value: undefined, done: true },
    ]);
  });

  it('next() calls waiting together are answered in call order', async () => {
    const ch = channel<string>({ capacity: 4 });
    const it = toAsyncIterable(ch.observable);
    const pending = [it.next(), it.next(), it.next()];
    await flush();
    ch.trySend('a');
    ch.trySend('b');
    ch.close();
    expect(await Promise.all(pending)).toEqual([
      { value: 'a', done: false },
      { value: 'b', done: false },
      { value: undefined, done: true },
    ]);
  });

  it('an async demand-aware source is asked for one value per iteration too', async () => {
    let produced = 0;
    async function* gen() {
      for (;;) {
        await Promise.resolve();
        yield produced++;
      }
    }
    const got: number[] = [];
    for await (const v of toAsyncIterable(fromPull(gen()))) {
      got.push(v);
      await flush();
      expect(produced).toBe(got.length); // nothing read ahead of the loop
      if (got.length === 5) break;
    }
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it('reentrancy: a loop that sends into the channel it reads from (a work queue feeding itself)', async () => {
    const ch = channel<number>({ capacity: 2 });
    ch.trySend(1);
    const seen: number[] = [];
    for await (const n of toAsyncIterable(ch.observable)) {
      seen.push(n);
      if (seen.length > 10) break; // a lost value must fail the test, not spin it forever
      if (n < 6) await ch.send(n + 1);
      else ch.close();
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ch.size).toBe(0);
  });

  it('a channel is read one value per iteration: the rest stays in the channel for other consumers', async () => {
    const ch = channel<number>({ capacity: 10 });
    for (let i = 0; i < 10; i++) ch.trySend(i);
    expect(await collect(toAsyncIterable(ch.observable), 3)).toEqual([0, 1, 2]);
    expect(ch.size).toBe(7);
  });
});

describe('toAsyncIterable: a push source goes through a bounded buffer', () => {
  it('values and completion', async () => {
    expect(await collect(toAsyncIterable(of(1, 2, 3)))).toEqual([1, 2, 3]);
  });

  it('subscribes at the first iteration and unsubscribes on break; finalize runs before the loop moves on', async () => {
    const log: string[] = [];
    const subject = new Subject<string>();
    const w = watched(subject.pipe(finalize(() => log.push('finalize'))));
    const it = toAsyncIterable(w.source);
    expect(w.subscribed()).toBe(0);
    const first = it.next();
    expect(w.subscribed()).toBe(1);
    subject.next('a');
    subject.next('b');
    for await (const v of { [Symbol.asyncIterator]: () => it }) {
      log.push(`loop ${v}`);
      if (v === 'b') break;
    }
    log.push('after loop');
    expect(await first).toEqual({ value: 'a', done: false });
    expect(log).toEqual(['loop b', 'finalize', 'after loop']);
    expect(w.unsubscribed()).toBe(1);
    expect(subject.observed).toBe(false);
  });

  it('a synchronous source stopped by take delivers just those values', async () => {
    let emitted = 0;
    const endless = new Observable<number>((s) => {
      while (!s.closed) s.next(emitted++);
    });
    expect(await collect(toAsyncIterable(endless.pipe(take(3))))).toEqual([0, 1, 2]);
    expect(emitted).toBe(3);
  });

  it("error: the default policy 'error' throws an OverflowError in the loop after the queued values", async () => {
    const monitor = bufferMonitor();
    const seen: number[] = [];
    const err: unknown = await (async () => {
      for await (const v of toAsyncIterable(range(0, 100), { capacity: 4, monitor })) seen.push(v);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(err).toBeInstanceOf(OverflowError);
    expect(err).toMatchObject({ operator: 'toAsyncIterable', capacity: 4, policy: 'error' });
    expect(monitor.snapshot()).toMatchObject({ highWater: 4, emitted: 4, dropped: 0 });
  });

  it('the default capacity is 256', async () => {
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const v of toAsyncIterable(range(0, 1000))) seen.push(v);
      })(),
    ).rejects.toThrow(OverflowError);
    expect(seen).toHaveLength(256);
    expect(await collect(toAsyncIterable(range(0, 256)))).toHaveLength(256);
  });

  it('a source error is thrown in the loop after the values already buffered', async () => {
    const subject = new Subject<number>();
    const it = toAsyncIterable(subject);
    const first = it.next();
    subject.next(1);
    subject.next(2);
    subject.error(new Error('upstream down'));
    expect(await first).toEqual({ value: 1, done: false });
    expect(await it.next()).toEqual({ value: 2, done: false });
    await expect(it.next()).rejects.toThrow('upstream down');
  });

  it('drop-newest keeps at most capacity values and counts every drop', async () => {
    const monitor = bufferMonitor();
    const dropped: number[] = [];
    const subject = new Subject<number>();
    const it = toAsyncIterable(subject, {
      capacity: 3,
      overflow: 'drop-newest',
      monitor,
      onDrop: (v, event) => {
        expect(event.operator).toBe('toAsyncIterable');
        dropped.push(v);
      },
    });
    const first = it.next();
    for (let i = 0; i < 10; i++) subject.next(i);
    subject.complete();
    expect(await first).toEqual({ value: 0, done: false });
    expect(await collect({ [Symbol.asyncIterator]: () => it })).toEqual([1, 2, 3]);
    expect(dropped).toEqual([4, 5, 6, 7, 8, 9]);
    const stats = monitor.snapshot();
    expect(stats.highWater).toBeLessThanOrEqual(3);
    expect(stats).toMatchObject({ received: 10, emitted: 4, dropped: 6, depth: 0 });
  });

  it('drop-oldest keeps the newest values', async () => {
    const monitor = bufferMonitor();
    const values = await collect(toAsyncIterable(range(0, 50), { capacity: 5, overflow: 'drop-oldest', monitor }));
    expect(values).toEqual([45, 46, 47, 48, 49]);
    expect(monitor.snapshot()).toMatchObject({ received: 50, dropped: 45, highWater: 5 });
  });

  it('a callback that throws (onDrop) fails the loop with what it threw and unsubscribes the source', async () => {
    const w = watched(range(0, 10));
    const err: unknown = await collect(
      toAsyncIterable(w.source, {
        capacity: 2,
        overflow: 'drop-newest',
        onDrop: () => {
          throw new Error('metrics down');
        },
      }),
    ).catch((e: unknown) => e);
    expect(String(err)).toBe('Error: metrics down');
    expect(w.unsubscribed()).toBe(1);
  });

  it('an endless synchronous push source is stopped by the overflow error instead of hanging', async () => {
    let emitted = 0;
    const endless = new Observable<number>((s) => {
      while (!s.closed) s.next(emitted++);
    });
    await expect(collect(toAsyncIterable(endless, { capacity: 8 }))).rejects.toThrow(OverflowError);
    expect(emitted).toBe(9);
  });
});

describe('toAsyncIterable versus rxjs-for-await', () => {
  it('eachValueFrom drains all 10,000 values of a fromPull generator into its buffer while the loop has read 5; toAsyncIterable has pulled 5', async () => {
    const viaEachValueFrom = countingIterable(10_000);
    const seenA: number[] = [];
    let pulledWhenFiveRead = -1;
    for await (const v of eachValueFrom(fromPull(viaEachValueFrom.iterable))) {
      seenA.push(v);
      if (seenA.length === 5) {
        pulledWhenFiveRead = viaEachValueFrom.pulled();
        break;
      }
    }
    expect(seenA).toEqual([0, 1, 2, 3, 4]);
    // A plain subscriber asks for everything: the whole generator went into eachValueFrom's array.
    expect(pulledWhenFiveRead).toBe(10_000);

    const viaToAsyncIterable = countingIterable(10_000);
    const seenB: number[] = [];
    for await (const v of toAsyncIterable(fromPull(viaToAsyncIterable.iterable))) {
      seenB.push(v);
      if (seenB.length === 5) {
        pulledWhenFiveRead = viaToAsyncIterable.pulled();
        break;
      }
    }
    expect(seenB).toEqual([0, 1, 2, 3, 4]);
    expect(pulledWhenFiveRead).toBe(5);
    expect(viaToAsyncIterable.returned()).toBe(true);
  });
});
