import { once } from 'node:events';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
// Node's own class (the global one in Node 20); its typings declare it async iterable.
import { ReadableStream } from 'node:stream/web';
import { afterAll, afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import type { Observable } from 'rxjs';
import {
  config,
  finalize,
  firstValueFrom,
  lastValueFrom,
  map,
  of,
  repeat,
  retry,
  share,
  take,
  throwError,
  toArray,
} from 'rxjs';
import { fromPull, isDemandAware, mergeWorkers, type DemandObservable } from '../index.js';
import { countingIterable, probe } from './helpers.js';

/** The error of a second subscription to a one-shot input: it names the fix. */
const ONE_SHOT =
  /^fromPull: the input is a one-shot source .* already read; .* Fix: pass a factory instead, .*: fromPull\(\(\) => iterable\)$/;

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
      [true, 'got true'],
    ];
    for (const [input, got] of bad) {
      expect(() => fromPull(input as never)).toThrow(TypeError);
      expect(() => fromPull(input as never)).toThrow(
        `fromPull: 'input' must be an iterable, an async iterable or a factory of one, ${got}`,
      );
    }
  });

  it('accepts arrays, strings, Sets, Maps and generator functions wrapped as iterables', async () => {
    expect(await firstValueFrom(fromPull([1, 2, 3]).pipe(toArray()))).toEqual([1, 2, 3]);
    expect(await firstValueFrom(fromPull('ab').pipe(toArray()))).toEqual(['a', 'b']);
    expect(await firstValueFrom(fromPull(new Set([1, 1, 2])).pipe(toArray()))).toEqual([1, 2]);
    expect(await firstValueFrom(fromPull(new Map([['k', 1]])).pipe(toArray()))).toEqual([['k', 1]]);
  });

  it('asks an iterable for a fresh iterator per subscription; a generator object is read once, then refused', async () => {
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
    await expect(firstValueFrom(once.pipe(toArray()))).rejects.toThrow(ONE_SHOT);
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

describe('fromPull: one-shot inputs and factories', () => {
  function* oneTwoThree(): Generator<number> {
    yield 1;
    yield 2;
    yield 3;
  }

  /** Subscribes with unbounded demand and resolves, once it has ended, with what arrived and how. */
  async function run<T>(source: DemandObservable<T>): Promise<{ values: T[]; error: unknown; completed: boolean }> {
    const values: T[] = [];
    let error: unknown;
    let completed = false;
    source.subscribe({
      next: (v) => values.push(v),
      error: (e: unknown) => (error = e),
      complete: () => (completed = true),
    });
    await until(() => completed || error !== undefined, 'the end of the stream');
    return { values, error, completed };
  }

  it('re-iterable inputs (array, Set, Map, string, a custom iterable) stay re-subscribable', async () => {
    const custom = {
      *[Symbol.iterator]() {
        yield 'x';
      },
    };
    const inputs: Iterable<unknown>[] = [[1, 2], new Set([1, 2]), new Map([[1, 2]]), 'ab', custom];
    for (const input of inputs) {
      const source = fromPull(input);
      const first = await firstValueFrom(source.pipe(toArray()));
      expect(first.length).toBeGreaterThan(0);
      for (let i = 0; i < 3; i++) expect(await firstValueFrom(source.pipe(toArray()))).toEqual(first);
    }
  });

  it('a second subscription to a one-shot sync input errors loudly, naming the fix, and leaves the first alone', () => {
    const selfIterator: IterableIterator<number> = {
      next: () => ({ done: false, value: 7 }),
      [Symbol.iterator]() {
        return this;
      },
    };
    for (const input of [
      oneTwoThree(),
      [5, 6].values(),
      new Map([
        [1, 2],
        [3, 4],
      ]).keys(),
      selfIterator,
    ]) {
      const source = fromPull<unknown>(input);
      const first = probe(source, undefined, 1);
      expect(first.values).toHaveLength(1);
      const second = probe(source, undefined, 1); // while the first is still reading
      expect(second.values).toEqual([]);
      expect(second.errors).toHaveLength(1);
      expect(second.errors[0]).toBeInstanceOf(TypeError);
      expect((second.errors[0] as Error).message).toMatch(ONE_SHOT);
      first.request(1);
      expect(first.values).toHaveLength(2); // the refused subscription did not touch the iterator
      expect(first.errors).toEqual([]);
      first.cancel();
      // After the first has finished (or, here, been cancelled), still refused: never an empty completion.
      expect(probe(source, undefined, 1).errors).toHaveLength(1);
    }
  });

  it('the same generator object given to two fromPull calls is refused by the second', async () => {
    const g = oneTwoThree();
    expect(await firstValueFrom(fromPull(g).pipe(toArray()))).toEqual([1, 2, 3]);
    await expect(firstValueFrom(fromPull(g).pipe(toArray()))).rejects.toThrow(ONE_SHOT);
  });

  it('one-shot async inputs: an async generator, a Node Readable, readline, a web ReadableStream', async () => {
    async function* agen() {
      yield 1;
      yield 2;
    }
    const dir = mkdtempSync(join(tmpdir(), 'fromPull-once-'));
    try {
      const file = join(dir, 'two.txt');
      writeFileSync(file, 'a\nb\n');
      const web = new ReadableStream<number>({
        start(controller) {
          controller.enqueue(1);
          controller.close();
        },
      });
      // Each made just before it is read: readline drops the lines that come before its reader.
      const inputs: [string, () => AsyncIterable<unknown>][] = [
        ['async generator', () => agen()],
        ['Readable', () => Readable.from([1, 2])],
        ['readline', () => createInterface({ input: createReadStream(file), crlfDelay: Infinity })],
        ['ReadableStream', () => web],
      ];
      for (const [label, make] of inputs) {
        const source = fromPull<unknown>(make());
        const first = await run(source);
        expect(first.completed, label).toBe(true);
        expect(first.values.length, label).toBeGreaterThan(0);
        const second = await run(source);
        expect(second.values, label).toEqual([]);
        expect(second.completed, label).toBe(false);
        expect(String(second.error), label).toMatch(/one-shot source/);
        expect((second.error as Error).message, label).toMatch(ONE_SHOT);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a factory is called once per subscription, each time for a fresh input', async () => {
    let calls = 0;
    const source = fromPull(() => {
      calls++;
      return oneTwoThree();
    });
    expect(calls).toBe(0); // lazy, like defer
    expect(await firstValueFrom(source.pipe(toArray()))).toEqual([1, 2, 3]);
    expect(await firstValueFrom(source.pipe(toArray()))).toEqual([1, 2, 3]);
    expect(calls).toBe(2);
    expectTypeOf(source).toEqualTypeOf<DemandObservable<number>>();
    expectTypeOf(
      fromPull(async function* () {
        yield 'a';
      }),
    ).toEqualTypeOf<DemandObservable<string>>();
  });

  it('a throwing factory is the stream error, not a throw out of subscribe', async () => {
    const boom = new Error('cannot open');
    const result = await run(
      fromPull<number>(() => {
        throw boom;
      }),
    );
    expect(result).toEqual({ values: [], error: boom, completed: false });
  });

  it('a factory that returns something not iterable is a TypeError of the stream, naming what it returned', async () => {
    const result = await run(fromPull(() => 42 as never));
    expect(result.error).toBeInstanceOf(TypeError);
    expect((result.error as Error).message).toBe(
      "fromPull: 'input' must return an iterable or async iterable, but it returned 42",
    );
  });

  it('a factory that returns the same generator object every time is refused on the second call', async () => {
    const g = oneTwoThree();
    const source = fromPull(() => g);
    expect((await run(source)).values).toEqual([1, 2, 3]);
    const second = await run(source);
    expect((second.error as Error).message).toMatch(
      /^fromPull: the factory returned a one-shot source .* Fix: make a fresh one inside the factory on each call: fromPull\(\(\) => iterable\)$/,
    );
  });

  /** A worker that fails value 3 the first time it sees it. */
  function failsThreeOnce(): (v: number) => Observable<number> {
    let failed = false;
    return (v) => {
      if (v === 3 && !failed) {
        failed = true;
        return throwError(() => new Error('transient'));
      }
      return of(v * 10);
    };
  }

  it('retry around fromPull(factory) + mergeWorkers: every value is delivered', async () => {
    let opened = 0;
    function* five() {
      opened++;
      for (let i = 1; i <= 5; i++) yield i;
    }
    const values = await lastValueFrom(
      fromPull(() => five()).pipe(mergeWorkers(failsThreeOnce(), { concurrency: 2 }), retry(1), toArray()),
    );
    expect(opened).toBe(2);
    // The first run delivered 10 and 20 before 3 failed; the retry read a fresh generator.
    expect(values).toEqual([10, 20, 10, 20, 30, 40, 50]);
    expect([...new Set(values)].sort((a, b) => a - b)).toEqual([10, 20, 30, 40, 50]);
  });

  it('retry around fromPull(generator object) errors loudly instead of completing without values 3 to 5', async () => {
    function* five() {
      for (let i = 1; i <= 5; i++) yield i;
    }
    const values: number[] = [];
    const failure = await new Promise<unknown>((resolve, reject) => {
      fromPull(five())
        .pipe(mergeWorkers(failsThreeOnce(), { concurrency: 2 }), retry(1))
        .subscribe({ next: (v) => values.push(v), error: resolve, complete: () => reject(new Error('completed')) });
    });
    expect(values).toEqual([10, 20]);
    expect((failure as Error).message).toMatch(ONE_SHOT);
  });

  it('repeat re-reads a factory; a late share subscriber gets a fresh input', async () => {
    const repeated = await lastValueFrom(fromPull(() => oneTwoThree()).pipe(repeat(3), toArray()));
    expect(repeated).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3]);

    const shared = fromPull(() => oneTwoThree()).pipe(share());
    expect(await lastValueFrom(shared.pipe(toArray()))).toEqual([1, 2, 3]);
    expect(await lastValueFrom(shared.pipe(toArray()))).toEqual([1, 2, 3]); // late: share resubscribed

    const sharedOnce = fromPull(oneTwoThree()).pipe(share());
    expect(await lastValueFrom(sharedOnce.pipe(toArray()))).toEqual([1, 2, 3]);
    await expect(lastValueFrom(sharedOnce.pipe(toArray()))).rejects.toThrow(ONE_SHOT);
  });
});

describe('fromPull: a ReadableStream with getReader() but no [Symbol.asyncIterator] (Safari)', () => {
  /** A real web stream with its async iterator hidden, as Safari ships it. */
  function safari<T>(source: UnderlyingDefaultSource<T>, highWaterMark = 0): ReadableStream<T> {
    const stream = new ReadableStream<T>(source, { highWaterMark });
    Object.defineProperty(stream, Symbol.asyncIterator, { value: undefined });
    expect(typeof (stream as Partial<AsyncIterable<T>>)[Symbol.asyncIterator]).toBe('undefined');
    return stream;
  }

  it('is read on demand, to completion', async () => {
    let pulls = 0;
    const stream = safari<number>({
      pull(controller) {
        if (pulls === 3) controller.close();
        else controller.enqueue(pulls++);
      },
    });
    const p = probe(fromPull(stream), undefined, 2);
    await until(() => p.values.length === 2, 'two values');
    await flush();
    expect(pulls).toBe(2);
    p.request(5);
    await until(() => p.completions === 1, 'completion');
    expect(p.values).toEqual([0, 1, 2]);
    expect(stream.locked).toBe(false);
  });

  it('is cancelled and released on unsubscribe, also while a read is pending', async () => {
    let cancelled = 0;
    const stream = safari<number>(
      {
        start(controller) {
          controller.enqueue(1); // then nothing more, ever
        },
        cancel() {
          cancelled++;
        },
      },
      1,
    );
    const p = probe(fromPull(stream), undefined, 2);
    await until(() => p.values.length === 1, 'the first value');
    await flush(); // the second read is now pending
    expect(stream.locked).toBe(true);
    p.cancel();
    await flush();
    expect(cancelled).toBe(1);
    expect(stream.locked).toBe(false);
    expect(p.completions + p.errors.length).toBe(0);
  });

  it('a stream locked by another reader fails the subscription (getReader throws) instead of throwing out of subscribe', () => {
    const stream = safari<number>({});
    const other = stream.getReader();
    const p = probe(fromPull(stream), undefined, 1);
    expect(p.errors).toHaveLength(1);
    expect(p.errors[0]).toBeInstanceOf(TypeError);
    other.releaseLock();
  });

  it('a refused second subscription does not lock the stream', async () => {
    const stream = safari<number>({
      start(controller) {
        controller.enqueue(1);
        controller.close();
      },
    });
    const source = fromPull(stream);
    const first = probe(source, undefined, 5);
    await until(() => first.completions === 1, 'completion');
    const second = probe(source, undefined, 1);
    expect((second.errors[0] as Error).message).toMatch(ONE_SHOT);
    expect(stream.locked).toBe(false);
  });

  it('an error of the stream becomes the stream error', async () => {
    const stream = safari<number>({
      start(controller) {
        controller.error(new Error('reset by peer'));
      },
    });
    const p = probe(fromPull(stream), undefined, 1);
    await until(() => p.errors.length === 1, 'the error');
    expect(String(p.errors[0])).toBe('Error: reset by peer');
    expect(stream.locked).toBe(false);
  });
});
