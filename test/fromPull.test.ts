import { once } from 'node:events';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
// Node's own class (the global one in Node 20); its typings declare it async iterable.
import { ReadableStream } from 'node:stream/web';
import { afterAll, afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { config, finalize, firstValueFrom, lastValueFrom, map, take, toArray } from 'rxjs';
import { fromPull, isDemandAware, type DemandObservable } from '../index.js';
import { countingIterable, probe } from './helpers.js';

/** Lets every queued promise reaction run (a macrotask comes after all microtasks). */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Waits for a condition that depends on real I/O; how long it takes does not matter. */
async function until(condition: () => boolean, what: string): Promise<void> {
  await vi.waitFor(
    () => {
      if (!condition()) throw new Error(`still waiting for ${what}`);
    },
    { timeout: 5_000, interval: 1 },
  );
}

/**
 * A hand-made async iterator that counts next() calls, how many are pending at once, and
 * return() calls; each next() is answered only when the test calls `resolveNext`.
 */
function manualAsync<T>() {
  const pending: ((r: IteratorResult<T>) => void)[] = [];
  const rejects: ((e: unknown) => void)[] = [];
  let nextCalls = 0;
  let maxPending = 0;
  let returnCalls = 0;
  const iterable: AsyncIterable<T> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        nextCalls++;
        return new Promise<IteratorResult<T>>((resolve, reject) => {
          pending.push(resolve);
          rejects.push(reject);
          maxPending = Math.max(maxPending, pending.length);
        });
      },
      return: () => {
        returnCalls++;
        return Promise.resolve({ done: true, value: undefined });
      },
    }),
  };
  return {
    iterable,
    nextCalls: () => nextCalls,
    maxPending: () => maxPending,
    pending: () => pending.length,
    returnCalls: () => returnCalls,
    resolveNext(result: IteratorResult<T>) {
      rejects.shift();
      pending.shift()?.(result);
    },
    rejectNext(err: unknown) {
      pending.shift();
      rejects.shift()?.(err);
    },
  };
}

/** Captures what RxJS's unhandled-error hook receives during a test. */
function captureUnhandled(): unknown[] {
  const seen: unknown[] = [];
  config.onUnhandledError = (err) => seen.push(err);
  return seen;
}

afterEach(() => {
  config.onUnhandledError = null;
});

describe('fromPull: input', () => {
  it('returns a demand-aware Observable', () => {
    expectTypeOf(fromPull([1, 2])).toEqualTypeOf<DemandObservable<number>>();
    expect(isDemandAware(fromPull([1]))).toBe(true);
    expect(isDemandAware(fromPull(manualAsync<number>().iterable))).toBe(true);
  });

  it('rejects what is not iterable with a TypeError naming fromPull and input', () => {
    const bad: [unknown, string][] = [
      [42, 'got 42'],
      [null, 'got null'],
      [undefined, 'got undefined'],
      [{}, 'got an object'],
      [() => undefined, 'got a function'],
      [true, 'got true'],
    ];
    for (const [input, got] of bad) {
      expect(() => fromPull(input as never)).toThrow(TypeError);
      expect(() => fromPull(input as never)).toThrow(`fromPull: 'input' must be an iterable or async iterable, ${got}`);
    }
  });

  it('accepts arrays, strings, Sets, Maps and generator functions wrapped as iterables', async () => {
    expect(await firstValueFrom(fromPull([1, 2, 3]).pipe(toArray()))).toEqual([1, 2, 3]);
    expect(await firstValueFrom(fromPull('ab').pipe(toArray()))).toEqual(['a', 'b']);
    expect(await firstValueFrom(fromPull(new Set([1, 1, 2])).pipe(toArray()))).toEqual([1, 2]);
    expect(await firstValueFrom(fromPull(new Map([['k', 1]])).pipe(toArray()))).toEqual([['k', 1]]);
  });

  it('asks an iterable for a fresh iterator per subscription; a generator object is used up once', async () => {
    const { iterable } = countingIterable(3);
    const source = fromPull(iterable);
    expect(await firstValueFrom(source.pipe(toArray()))).toEqual([0, 1, 2]);
    expect(await firstValueFrom(source.pipe(toArray()))).toEqual([0, 1, 2]);

    function* gen() {
      yield 1;
      yield 2;
    }
    const once = fromPull(gen());
    expect(await firstValueFrom(once.pipe(toArray()))).toEqual([1, 2]);
    expect(await firstValueFrom(once.pipe(toArray()))).toEqual([]);
  });
});

describe('fromPull: the canonical cases (sync)', () => {
  it('never asks before there is demand, and pulls exactly what is requested', () => {
    const src = countingIterable();
    const p = probe(fromPull(src.iterable));
    expect(src.pulled()).toBe(0);
    p.request(3);
    expect(src.pulled()).toBe(3);
    p.request(1);
    p.request(2);
    expect(src.pulled()).toBe(6);
    expect(p.values).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('counts next() calls on a hand-written iterator: one per requested value, plus one to see done', () => {
    let calls = 0;
    const iterable: Iterable<number> = {
      [Symbol.iterator]: () => ({
        next: () => {
          calls++;
          return calls <= 3 ? { done: false, value: calls } : { done: true, value: undefined };
        },
      }),
    };
    const p = probe(fromPull(iterable));
    p.request(2);
    expect(calls).toBe(2);
    p.request(1);
    expect(calls).toBe(3);
    expect(p.completions).toBe(0);
    p.request(1);
    expect(calls).toBe(4);
    expect(p.values).toEqual([1, 2, 3]);
    expect(p.completions).toBe(1);
  });

  it('empty: completes on the first request, and at once for an ordinary subscriber', () => {
    const p = probe(fromPull([]));
    expect(p.completions).toBe(0);
    p.request(1);
    expect(p.completions).toBe(1);
    let completed = false;
    fromPull([]).subscribe({ complete: () => (completed = true) });
    expect(completed).toBe(true);
  });

  it('values: an ordinary subscriber gets everything, like from()', async () => {
    expect(await lastValueFrom(fromPull(countingIterable(100_000).iterable).pipe(toArray()))).toHaveLength(100_000);
  });

  it('error: what the iterator throws becomes the stream error, after the values before it', () => {
    function* failing() {
      yield 1;
      yield 2;
      throw new Error('disk on fire');
    }
    const p = probe(fromPull(failing()));
    p.request(10);
    expect(p.values).toEqual([1, 2]);
    expect(String(p.errors[0])).toBe('Error: disk on fire');
    expect(p.afterTerminal).toBe(0);
  });

  it('error: a throwing [Symbol.iterator]() errors the subscription instead of throwing out of subscribe', () => {
    const broken: Iterable<number> = {
      [Symbol.iterator]() {
        throw new Error('cannot open');
      },
    };
    const p = probe(fromPull(broken));
    expect(String(p.errors[0])).toBe('Error: cannot open');
    p.request(1); // harmless after the error
    expect(p.afterTerminal).toBe(0);
    let error: unknown;
    fromPull(broken).subscribe({ error: (e: unknown) => (error = e) });
    expect(String(error)).toBe('Error: cannot open');
  });

  it('error: a next() that returns a non-object is a TypeError of the stream', () => {
    const weird = { [Symbol.iterator]: () => ({ next: () => undefined }) } as unknown as Iterable<number>;
    const p = probe(fromPull(weird));
    p.request(1);
    expect(p.errors[0]).toBeInstanceOf(TypeError);
    expect(String(p.errors[0])).toMatch(/^TypeError: fromPull: the iterator's next\(\) returned undefined/);
  });

  it('does not call return() after the iterator finished or failed', () => {
    let returns = 0;
    const make = (fail: boolean): Iterable<number> => ({
      [Symbol.iterator]: () => ({
        next: () => {
          if (fail) throw new Error('x');
          return { done: true, value: undefined };
        },
        return: () => {
          returns++;
          return { done: true, value: undefined };
        },
      }),
    });
    for (const fail of [false, true]) {
      const p = probe(fromPull(make(fail)), undefined, 1);
      p.cancel();
    }
    expect(returns).toBe(0);
  });

  it('never-ending: an endless generator is read only as far as asked', () => {
    const src = countingIterable();
    const p = probe(fromPull(src.iterable), undefined, 1000);
    expect(p.values).toHaveLength(1000);
    expect(src.pulled()).toBe(1000);
    expect(p.completions).toBe(0);
  });

  it("early unsubscribe calls return(): the generator's finally runs, and nothing is pulled after it", () => {
    const src = countingIterable();
    const p = probe(fromPull(src.iterable), undefined, 2);
    expect(src.returned()).toBe(false);
    p.cancel();
    expect(src.returned()).toBe(true);
    p.request(5);
    expect(src.pulled()).toBe(2);
  });

  it('a synchronous endless source is stopped by take(n) after n pulls', async () => {
    const src = countingIterable();
    expect(await firstValueFrom(fromPull(src.iterable).pipe(take(4), toArray()))).toEqual([0, 1, 2, 3]);
    expect(src.pulled()).toBe(4);
    expect(src.returned()).toBe(true);
  });

  it('an iterator whose return() throws does not crash the unsubscribe; the error goes to the RxJS hook', () => {
    const iterable: Iterable<number> = {
      [Symbol.iterator]: () => ({
        next: () => ({ done: false, value: 1 }),
        return: () => {
          throw new Error('close failed');
        },
      }),
    };
    const seen = captureUnhandled();
    const p = probe(fromPull(iterable), undefined, 1);
    expect(() => p.cancel()).not.toThrow();
    expect(seen.map(String)).toEqual(['Error: close failed']);

    // With no hook the error is not lost either: like RxJS, it is thrown on a fresh stack.
    config.onUnhandledError = null;
    vi.useFakeTimers();
    try {
      const sub = fromPull(iterable).pipe(take(5)).subscribe();
      expect(sub.closed).toBe(true); // take(5) unsubscribed through the throwing return()
      expect(() => vi.runAllTimers()).toThrow('close failed');
    } finally {
      vi.useRealTimers();
    }
  });

  it('a callback that throws downstream (map) errors the stream and closes the generator', () => {
    const src = countingIterable();
    let error: unknown;
    fromPull(src.iterable)
      .pipe(
        map((v) => {
          if (v === 2) throw new Error('bad row');
          return v;
        }),
      )
      .subscribe({ error: (e: unknown) => (error = e) });
    expect(String(error)).toBe('Error: bad row');
    expect(src.pulled()).toBe(3);
    expect(src.returned()).toBe(true);
  });

  it('finalize order with take: complete, then the generator finally, then the finalize callbacks inside-out', () => {
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
    fromPull(gen())
      .pipe(
        finalize(() => log.push('inner finalize')),
        take(2),
        finalize(() => log.push('outer finalize')),
      )
      .subscribe({ next: (v) => log.push(`next ${v}`), complete: () => log.push('complete') });
    expect(log).toEqual([
      'pull 0',
      'next 0',
      'pull 1',
      'next 1',
      'complete',
      'generator finally',
      'inner finalize',
      'outer finalize',
    ]);
  });

  it('reentrancy: cancel from inside next stops pulling at once and closes the iterator', () => {
    const src = countingIterable();
    const p = probe(fromPull(src.iterable), (v, self) => v === 2 && self.cancel(), 10);
    expect(p.values).toEqual([0, 1, 2]);
    expect(src.pulled()).toBe(3);
    expect(src.returned()).toBe(true);
  });
});

describe('fromPull: async iterables', () => {
  it('asks one value at a time and only against demand, counting next() calls', async () => {
    const m = manualAsync<number>();
    const p = probe(fromPull(m.iterable));
    await flush();
    expect(m.nextCalls()).toBe(0);
    p.request(3);
    expect(m.nextCalls()).toBe(1);
    await flush();
    expect(m.nextCalls()).toBe(1); // not before the first answer
    m.resolveNext({ done: false, value: 10 });
    await flush();
    expect(p.values).toEqual([10]);
    expect(m.nextCalls()).toBe(2);
    m.resolveNext({ done: false, value: 11 });
    await flush();
    m.resolveNext({ done: false, value: 12 });
    await flush();
    expect(p.values).toEqual([10, 11, 12]);
    expect(m.nextCalls()).toBe(3); // demand used up: no read-ahead
    expect(m.maxPending()).toBe(1);
    p.request(1);
    expect(m.nextCalls()).toBe(4);
    m.resolveNext({ done: true, value: undefined });
    await flush();
    expect(p.completions).toBe(1);
    expect(m.returnCalls()).toBe(0);
  });

  it('an async generator read by request(1) from inside next produces exactly what was taken', async () => {
    let produced = 0;
    async function* gen() {
      for (;;) {
        await Promise.resolve();
        yield produced++;
      }
    }
    const values: number[] = [];
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const p = probe(
      fromPull(gen()),
      (v, self) => {
        values.push(v);
        if (v < 49) self.request(1);
        else finish();
      },
      1,
    );
    await done;
    await flush();
    expect(values).toHaveLength(50);
    expect(produced).toBe(50);
    p.cancel();
  });

  it('never: an iterator that never answers signals nothing; unsubscribing still calls return()', async () => {
    const m = manualAsync<number>();
    const p = probe(fromPull(m.iterable), undefined, 1);
    await flush();
    expect(p.values).toEqual([]);
    expect(p.completions + p.errors.length).toBe(0);
    p.cancel();
    expect(m.returnCalls()).toBe(1);
    m.resolveNext({ done: false, value: 1 }); // a late answer is ignored
    await flush();
    expect(p.values).toEqual([]);
    expect(p.afterTerminal).toBe(0);
  });

  it('empty and values, through an ordinary subscriber', async () => {
    async function* none() {}
    async function* three() {
      yield* [1, 2, 3];
    }
    expect(await lastValueFrom(fromPull(none()).pipe(toArray()))).toEqual([]);
    expect(await lastValueFrom(fromPull(three()).pipe(toArray()))).toEqual([1, 2, 3]);
  });

  it('error: a rejected next(), a throwing next() and a bad result all become the stream error', async () => {
    const m = manualAsync<number>();
    const p = probe(fromPull(m.iterable), undefined, 2);
    m.resolveNext({ done: false, value: 1 });
    await flush();
    m.rejectNext(new Error('socket reset'));
    await flush();
    expect(p.values).toEqual([1]);
    expect(String(p.errors[0])).toBe('Error: socket reset');
    expect(m.returnCalls()).toBe(0);

    const throwing: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          throw new Error('sync throw');
        },
      }),
    };
    const q = probe(fromPull(throwing), undefined, 1);
    expect(String(q.errors[0])).toBe('Error: sync throw');

    const bad = {
      [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(null) }),
    } as unknown as AsyncIterable<number>;
    const r = probe(fromPull(bad), undefined, 1);
    await flush();
    expect(r.errors[0]).toBeInstanceOf(TypeError);
  });

  it("early unsubscribe runs an async generator's finally when it is idle", async () => {
    let finished = false;
    let produced = 0;
    async function* gen() {
      try {
        for (;;) yield produced++;
      } finally {
        finished = true;
      }
    }
    const source = fromPull(gen());
    const values = await firstValueFrom(source.pipe(take(3), toArray()));
    expect(values).toEqual([0, 1, 2]);
    await flush();
    expect(finished).toBe(true);
    expect(produced).toBe(3);
  });

  it('an async return() that rejects is reported to the RxJS hook, not left unhandled', async () => {
    const seen = captureUnhandled();
    const iterable: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve({ done: false, value: 1 }),
        return: () => Promise.reject(new Error('async close failed')),
      }),
    };
    const p = probe(fromPull(iterable), undefined, 1);
    await flush();
    expect(p.values).toEqual([1]);
    p.cancel();
    await flush();
    expect(seen.map(String)).toEqual(['Error: async close failed']);
  });

  it('a consumer whose next throws is reported to the RxJS hook instead of an unhandled rejection', async () => {
    const seen = captureUnhandled();
    async function* gen() {
      yield 1;
    }
    probe(
      fromPull(gen()),
      () => {
        throw new Error('consumer bug');
      },
      1,
    );
    await flush();
    expect(seen.map(String)).toEqual(['Error: consumer bug']);
  });

  it('finalize around an async source runs once, after the values, on completion', async () => {
    const log: string[] = [];
    async function* gen() {
      yield 'a';
      yield 'b';
    }
    await lastValueFrom(
      fromPull(gen()).pipe(
        finalize(() => log.push('finalize')),
        map((v) => log.push(v)),
      ),
    );
    expect(log).toEqual(['a', 'b', 'finalize']);
  });
});

describe('fromPull: Node streams and web streams', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fromPull-'));
  const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
  const file = join(dir, 'lines.txt');
  const content = `${lines.join('\n')}\n`;
  writeFileSync(file, content);
  const shortFile = join(dir, 'short.txt');
  writeFileSync(shortFile, `${lines.slice(0, 2_000).join('\n')}\n`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('Readable.from: values in order, and unsubscribing destroys the stream', async () => {
    let produced = 0;
    function* numbers() {
      for (;;) yield produced++;
    }
    const stream = Readable.from(numbers(), { highWaterMark: 2 });
    const values = await firstValueFrom(fromPull<number>(stream).pipe(take(5), toArray()));
    expect(values).toEqual([0, 1, 2, 3, 4]);
    // The Readable reads ahead a little into its own small buffer, never the whole generator.
    expect(produced).toBeLessThan(5 + 2 + 2);
    await flush();
    expect(stream.destroyed).toBe(true);
  });

  it('a Readable with a read pending when the subscriber leaves is destroyed at once', async () => {
    const stream = new Readable({ read() {} }); // pushes only when the test says so
    const closed = once(stream, 'close');
    const p = probe(fromPull<string>(stream), undefined, 2);
    stream.push('first');
    await until(() => p.values.length === 1, 'the first chunk');
    // The iterator is now waiting for the second chunk, which never comes.
    p.cancel();
    expect(stream.destroyed).toBe(true);
    await closed;
    expect(p.values.map(String)).toEqual(['first']);
    expect(p.errors).toEqual([]); // the premature-close of the pending read is not delivered
  });

  it('fs.createReadStream with a small highWaterMark is read only as far as asked, then closed', async () => {
    const stream = createReadStream(file, { highWaterMark: 16 });
    const p = probe(fromPull<Buffer>(stream), undefined, 2);
    await until(() => p.values.length === 2, 'two chunks');
    await flush();
    expect(p.values.map((b) => b.length)).toEqual([16, 16]);
    expect(Buffer.concat(p.values).toString()).toBe(content.slice(0, 32));
    // Paused by missing demand: a few chunks of read-ahead at most, not the whole file.
    expect(stream.bytesRead).toBeLessThan(16 * 8);
    expect(content.length).toBeGreaterThan(100_000);
    const closed = once(stream, 'close');
    p.cancel();
    await closed;
    expect(stream.destroyed).toBe(true);
  });

  it('fs.createReadStream read to the end by an ordinary subscriber yields the whole file', async () => {
    const chunks = await lastValueFrom(
      fromPull<Buffer>(createReadStream(file, { highWaterMark: 4096 })).pipe(toArray()),
    );
    expect(Buffer.concat(chunks).toString()).toBe(content);
  });

  it('readline over a file: lines on demand; the documented finalize closes the file on unsubscribe', async () => {
    const input = createReadStream(file, { highWaterMark: 64 });
    const rl = createInterface({ input, crlfDelay: Infinity });
    const source = fromPull<string>(rl).pipe(finalize(() => input.destroy()));
    const closed = once(input, 'close');
    expect(await firstValueFrom(source.pipe(take(3), toArray()))).toEqual(['line 0', 'line 1', 'line 2']);
    await closed;
    expect(input.bytesRead).toBeLessThan(content.length);

    const all = await lastValueFrom(
      fromPull<string>(createInterface({ input: createReadStream(shortFile, { highWaterMark: 64 }) })).pipe(toArray()),
    );
    expect(all).toEqual(lines.slice(0, 2_000));
  });

  it('readline lines are handed over one request at a time', async () => {
    const input = createReadStream(file, { highWaterMark: 64 });
    const p = probe(fromPull<string>(createInterface({ input })), undefined, 2);
    await until(() => p.values.length === 2, 'two lines');
    await flush();
    expect(p.values).toEqual(['line 0', 'line 1']);
    p.request(1);
    await until(() => p.values.length === 3, 'the third line');
    expect(p.values[2]).toBe('line 2');
    p.cancel();
    input.destroy();
  });

  it('a web ReadableStream is pulled only against demand, and unsubscribing cancels it', async () => {
    let pulls = 0;
    let cancelReason: unknown = 'not cancelled';
    const stream = new ReadableStream<number>(
      {
        pull(controller) {
          controller.enqueue(pulls++);
        },
        cancel(reason) {
          cancelReason = reason;
        },
      },
      { highWaterMark: 0 },
    );
    const p = probe(fromPull(stream), undefined, 3);
    await until(() => p.values.length === 3, 'three values');
    await flush();
    expect(p.values).toEqual([0, 1, 2]);
    expect(pulls).toBe(3);
    p.cancel();
    await flush();
    expect(cancelReason).toBeUndefined();
    expect(stream.locked).toBe(false);
  });

  it('a web ReadableStream with a read pending when the subscriber leaves is cancelled at once', async () => {
    let cancelled = false;
    const stream = new ReadableStream<number>({
      start(controller) {
        controller.enqueue(1); // then nothing more, ever
      },
      cancel() {
        cancelled = true;
      },
    });
    const p = probe(fromPull(stream), undefined, 2);
    await until(() => p.values.length === 1, 'the first value');
    await flush();
    p.cancel();
    await flush();
    expect(cancelled).toBe(true);
    expect(stream.locked).toBe(false);
    expect(p.completions + p.errors.length).toBe(0);
  });

  it('a web ReadableStream: completion, and errors becoming the stream error', async () => {
    const finite = new ReadableStream<string>({
      start(controller) {
        controller.enqueue('a');
        controller.enqueue('b');
        controller.close();
      },
    });
    expect(await lastValueFrom(fromPull(finite).pipe(toArray()))).toEqual(['a', 'b']);
    expect(finite.locked).toBe(false);

    const failing = new ReadableStream<string>({
      start(controller) {
        controller.enqueue('a');
        controller.error(new Error('network down'));
      },
    });
    const p = probe(fromPull(failing), undefined, 5);
    await until(() => p.errors.length === 1, 'the error');
    expect(String(p.errors[0])).toBe('Error: network down');
  });
});
