import { interval, lastValueFrom, take, toArray } from 'rxjs';
import { fromPull, mergeWorkers, toAsyncIterable } from '../../index.js';

/*
 * Library scenarios that run inside Chromium (bundled by test/browser/library.test.ts): the web
 * platform's own ReadableStream, fetch and AbortSignal, not Node's versions of them.
 */

const settle = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** fromPull reads a web ReadableStream only as far as asked, and cancels it when the consumer leaves. */
export async function fromPullOverReadableStream(): Promise<{ values: number[]; pulls: number; cancelled: string }> {
  let pulls = 0;
  let cancelled = 'not cancelled';
  const stream = new ReadableStream<number>(
    {
      pull(controller) {
        pulls++;
        controller.enqueue(pulls);
      },
      cancel(reason) {
        cancelled = `cancelled: ${String(reason)}`;
      },
    },
    { highWaterMark: 0 },
  );
  // A ReadableStream is async iterable; the project's DOM typings (lib "DOM") just do not say so.
  const values = await lastValueFrom(fromPull(stream as unknown as AsyncIterable<number>).pipe(take(3), toArray()));
  await settle(20);
  return { values, pulls, cancelled };
}

/**
 * mergeWorkers with fetch: two requests at a time, the source read only as slots free up, and
 * the request still running when take(3) ends the output aborted through its AbortSignal.
 */
export async function mergeWorkersWithFetch(
  base: string,
): Promise<{ results: string[]; read: number[]; aborted: boolean[]; errors: string[] }> {
  const read: number[] = [];
  const signals: AbortSignal[] = [];
  const errors: string[] = [];
  function* ids(): Generator<number> {
    for (let n = 1; n <= 6; n++) {
      read.push(n);
      yield n;
    }
  }
  const work = async (n: number, { signal }: { signal: AbortSignal }): Promise<string> => {
    signals.push(signal);
    try {
      const response = await fetch(`${base}work?n=${n}`, { signal });
      return await response.text();
    } catch (err) {
      errors.push(err instanceof Error ? err.name : String(err));
      throw err;
    }
  };
  const results = await lastValueFrom(fromPull(ids()).pipe(mergeWorkers(work, { concurrency: 2 }), take(3), toArray()));
  await settle(50);
  return { results, read, aborted: signals.map((s) => s.aborted), errors };
}

/** toAsyncIterable: `for await` pulls one value per iteration, and `break` closes the generator. */
export async function toAsyncIterableBreak(): Promise<{ got: number[]; read: number; closed: boolean }> {
  let read = 0;
  let closed = false;
  function* endless(): Generator<number> {
    try {
      for (let i = 0; ; i++) {
        read++;
        yield i;
      }
    } finally {
      closed = true;
    }
  }
  const got: number[] = [];
  for await (const v of toAsyncIterable(fromPull(endless()))) {
    got.push(v);
    if (got.length === 3) break;
  }
  return { got, read, closed };
}

/** toAsyncIterable over a push source (timers): every value arrives, then the loop ends. */
export async function toAsyncIterablePush(): Promise<number[]> {
  const got: number[] = [];
  for await (const v of toAsyncIterable(interval(1).pipe(take(5)))) got.push(v);
  return got;
}
