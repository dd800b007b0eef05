import { describe, expect, it } from 'vitest';
import { NEVER, Subject, lastValueFrom, mergeMap, range, tap, toArray } from 'rxjs';
import {
  CancelledError,
  boundedBuffer,
  bufferMonitor,
  channel,
  fromPull,
  mergeWorkers,
  toAsyncIterable,
} from '../../index.js';

/*
 * The ML failure modes (seeds/003) that marbles cannot show: Promises, AbortSignals, for-await
 * loops and 100,000-value inputs. The marble pairs are in marbles/cases/failure-modes/ml.ts; the
 * realistic pipeline of ML-09 is examples/realistic-pipeline.ts, tested in test/examples.test.ts.
 * Waits are a few event-loop turns; nothing asserted depends on how fast the machine is.
 */

async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function stateOf(promise: Promise<unknown>): Promise<'pending' | 'fulfilled' | 'rejected'> {
  const pending = {};
  return Promise.race([promise, Promise.resolve(pending)]).then(
    (v) => (v === pending ? 'pending' : 'fulfilled'),
    () => 'rejected',
  );
}

describe('[ML] Push-Pull, middle level: what marbles cannot show', () => {
  it('[ML-01] naive: 100,000 values into mergeMap(work, 4) with busy workers: 99,996 wait in its queue', () => {
    let arrived = 0;
    let started = 0;
    const subscription = range(0, 100_000)
      .pipe(
        tap(() => arrived++),
        mergeMap(() => {
          started++;
          return NEVER;
        }, 4),
      )
      .subscribe();
    expect(arrived - started).toBe(99_996);
    subscription.unsubscribe();
  });

  it('[ML-01] library: the same burst through boundedBuffer(100, drop-newest): at most 100 wait, every drop counted', () => {
    const monitor = bufferMonitor();
    const subscription = range(0, 100_000)
      .pipe(
        boundedBuffer({ capacity: 100, overflow: 'drop-newest', monitor }),
        mergeWorkers(() => NEVER, { concurrency: 4 }),
      )
      .subscribe();
    expect(monitor.snapshot()).toMatchObject({ received: 100_000, emitted: 4, depth: 100, highWater: 100 });
    expect(monitor.snapshot().dropped).toBe(100_000 - 4 - 100);
    subscription.unsubscribe();
  });

  it('[ML-03] naive: awaiting the results before completing the jobs Subject never settles', async () => {
    const jobs = new Subject<number>();
    const results = jobs.pipe(
      mergeMap(async (n) => n * n, 2),
      toArray(),
    );
    const run = (async () => {
      const p = lastValueFrom(results);
      for (let i = 1; i <= 3; i++) jobs.next(i);
      const squares = await p; // wg.Wait()
      jobs.complete(); // close(jobs): never reached
      return squares;
    })();
    await turns();
    expect(await stateOf(run)).toBe('pending');
    jobs.complete(); // only someone outside can end it; the test does, to leave nothing behind
    await expect(run).resolves.toEqual([1, 4, 9]);
  });

  it('[ML-03] library: close the channel first, then wait; everything sent before close is worked', async () => {
    const jobs = channel<number>({ capacity: 4 });
    const results = lastValueFrom(
      jobs.observable.pipe(
        mergeWorkers(async (n: number) => n * n, { concurrency: 2 }),
        toArray(),
      ),
    );
    for (let i = 1; i <= 3; i++) await jobs.send(i);
    jobs.close();
    expect((await results).sort((a, b) => a - b)).toEqual([1, 4, 9]);
  });

  it('[ML-05] naive: a producer loop awaiting send() without a signal is parked for ever once the pipeline is cancelled', async () => {
    const jobs = channel<number>({ capacity: 1 });
    let exited = false;
    const producer = (async () => {
      try {
        for (let i = 0; ; i++) await jobs.send(i);
      } finally {
        exited = true;
      }
    })();
    const subscription = jobs.observable.pipe(mergeWorkers(() => NEVER, { concurrency: 1 })).subscribe();
    await turns();
    subscription.unsubscribe(); // the pipeline is cancelled
    await turns();
    expect(await stateOf(producer)).toBe('pending');
    expect(exited).toBe(false);
    expect(jobs.pendingSends).toBe(1);
    jobs.close(); // release it, so the test leaves nothing behind
    await expect(producer).rejects.toBeInstanceOf(Error);
    expect(exited).toBe(true);
  });

  it('[ML-05] library: with the pipeline signal on every send, cancelling the pipeline ends the producer loop', async () => {
    const jobs = channel<number>({ capacity: 1 });
    const cancel = new AbortController();
    const log: string[] = [];
    const producer = (async () => {
      try {
        for (let i = 0; ; i++) await jobs.send(i, { signal: cancel.signal });
      } catch (err) {
        log.push(`stopped: ${(err as Error).message}`);
      } finally {
        log.push('exited');
      }
    })();
    const subscription = jobs.observable.pipe(mergeWorkers(() => NEVER, { concurrency: 1 })).subscribe();
    subscription.add(() => cancel.abort(new Error('pipeline cancelled')));
    await turns();
    subscription.unsubscribe();
    await producer;
    expect(log).toEqual(['stopped: pipeline cancelled', 'exited']);
    expect(jobs.pendingSends).toBe(0);
  });

  it('[ML-10] library: breaking out of the loop leaves no live producer: reader closed, workers aborted, nothing read after', async () => {
    let read = 0;
    let readerClosed = false;
    function* reader(): Generator<number> {
      try {
        for (let i = 0; ; i++) {
          read++;
          yield i;
        }
      } finally {
        readerClosed = true;
      }
    }
    const signals: AbortSignal[] = [];
    const pipeline = fromPull(reader()).pipe(
      mergeWorkers(
        (n: number, { signal }) => {
          signals.push(signal);
          // Even values finish; odd ones hang until aborted, like a request that never answers.
          if (n % 2 === 0) return Promise.resolve(n);
          return new Promise<number>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
        },
        { concurrency: 3 },
      ),
    );
    const seen: number[] = [];
    for await (const n of toAsyncIterable(pipeline)) {
      seen.push(n);
      if (seen.length === 2) break;
    }
    const readAtBreak = read;
    await turns();
    expect(seen).toEqual([0, 2]);
    expect(readerClosed).toBe(true);
    expect(read).toBe(readAtBreak);
    // Work that had finished kept its signal; every worker still running was aborted, saying why.
    expect(signals.length).toBeGreaterThanOrEqual(3);
    signals.forEach((signal, n) => {
      expect(signal.aborted).toBe(n % 2 === 1);
      if (signal.aborted) expect(signal.reason instanceof CancelledError && signal.reason.reason).toBe('unsubscribed');
    });
  });
});
