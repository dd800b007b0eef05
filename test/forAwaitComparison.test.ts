import { describe, expect, it } from 'vitest';
import { eachValueFrom } from 'rxjs-for-await';
import { fromPull, toAsyncIterable } from '../index.js';

/*
 * The numbers in docs/adapters.md ("for await: toAsyncIterable and rxjs-for-await"): how many
 * values the generator produced by the time the loop had handed out 5, over a generator of 1,000.
 */

function counting(n: number): {
  sync: () => Generator<number>;
  async: () => AsyncGenerator<number>;
  pulled: () => number;
} {
  let pulled = 0;
  return {
    *sync() {
      for (let i = 0; i < n; i++) {
        pulled++;
        yield i;
      }
    },
    async *async() {
      for (let i = 0; i < n; i++) {
        await Promise.resolve();
        pulled++;
        yield i;
      }
    },
    pulled: () => pulled,
  };
}

/** Reads 5 values, awaiting a macrotask in the loop body (a slow consumer: a write, a render). */
async function readFive(iterable: AsyncIterable<number>, pulled: () => number): Promise<number> {
  let seen = 0;
  for await (const _value of iterable) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (++seen === 5) return pulled();
  }
  throw new Error('ended early');
}

describe('for await over fromPull: values pulled to hand out 5, of 1,000', () => {
  it('a synchronous generator: eachValueFrom 1,000, toAsyncIterable 5', async () => {
    const a = counting(1_000);
    expect(await readFive(eachValueFrom(fromPull(a.sync())), a.pulled)).toBe(1_000);
    const b = counting(1_000);
    expect(await readFive(toAsyncIterable(fromPull(b.sync())), b.pulled)).toBe(5);
  });

  it('an async generator: eachValueFrom 1,000, toAsyncIterable 5', async () => {
    const a = counting(1_000);
    expect(await readFive(eachValueFrom(fromPull(a.async())), a.pulled)).toBe(1_000);
    const b = counting(1_000);
    expect(await readFive(toAsyncIterable(fromPull(b.async())), b.pulled)).toBe(5);
  });
});
