import { describe, expect, expectTypeOf, it } from 'vitest';
import { NEVER, Subject, from, mergeMap, take } from 'rxjs';
import { eachValueFrom } from 'rxjs-for-await';
import {
  ClosedError,
  batchFresh,
  channel,
  fromPull,
  mergeWorkers,
  toAsyncIterable,
  type Channel,
  type DemandObservable,
} from '../../index.js';
import { countingIterable } from '../helpers.js';

/*
 * The PP failure modes (seeds/000) that marbles cannot show: Promises, AbortSignals, for-await
 * loops and 100,000-value inputs. The marble pairs are in marbles/cases/failure-modes/pp.ts.
 * No assertion here depends on how fast the machine is: waits are a few event-loop turns, and
 * what is asserted is what happened (or did not), never how long it took.
 */

/** Lets pending promise reactions and a few macrotasks run. */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A promise's state without waiting for it. */
async function stateOf(promise: Promise<unknown>): Promise<'pending' | 'fulfilled' | 'rejected'> {
  const pending = {};
  return Promise.race([promise, Promise.resolve(pending)]).then(
    (v) => (v === pending ? 'pending' : 'fulfilled'),
    () => 'rejected',
  );
}

describe('[PP] Push-Pull, find the bug: what marbles cannot show', () => {
  it('[PP-01] naive: next() on a Subject a reader has completed neither throws nor delivers', () => {
    const jobs = new Subject<number>();
    const seen: number[] = [];
    jobs.subscribe((v) => seen.push(v));
    jobs.complete(); // the reader "closes the channel"
    expect(() => jobs.next(1)).not.toThrow(); // the producer is not told
    expect(seen).toEqual([]);
  });

  it('[PP-01] library: the reader side has no close; after the producer closes, sends fail loudly', async () => {
    // The type a reader is handed cannot close the channel: only the producer's Channel can.
    expectTypeOf<Channel<number>['observable']>().not.toHaveProperty('close');
    expectTypeOf<Channel<number>['observable']>().toEqualTypeOf<DemandObservable<number>>();
    const jobs = channel<number>({ capacity: 2 });
    jobs.close();
    jobs.close(); // idempotent: a second close is not a panic
    expect(jobs.trySend(1)).toBe(false);
    await expect(jobs.send(1)).rejects.toBeInstanceOf(ClosedError);
  });

  it('[PP-04] naive: from(generator) → mergeMap(work, 4) reads all 100,000 values at subscribe and holds 99,996', () => {
    const input = countingIterable(100_000);
    let started = 0;
    const subscription = from(input.iterable)
      .pipe(
        mergeMap(() => {
          started++;
          return NEVER;
        }, 4),
      )
      .subscribe();
    expect(input.pulled()).toBe(100_000);
    expect(input.pulled() - started).toBe(99_996);
    subscription.unsubscribe();
  });

  it('[PP-04] library: fromPull(generator) → mergeWorkers(work, 4) reads 4 of 100,000 and releases the reader on unsubscribe', () => {
    const input = countingIterable(100_000);
    let started = 0;
    const subscription = fromPull(input.iterable)
      .pipe(
        mergeWorkers(
          () => {
            started++;
            return NEVER;
          },
          { concurrency: 4 },
        ),
      )
      .subscribe();
    expect(input.pulled()).toBe(4);
    expect(started).toBe(4);
    subscription.unsubscribe();
    expect(input.returned()).toBe(true);
  });

  it('[PP-05] naive: from(async generator) leaves a producer parked on an await after the reader has gone', async () => {
    let exited = false;
    const never = new Promise<void>(() => undefined); // e.g. waiting for room, or for data that will not come
    async function* producer(): AsyncGenerator<number> {
      try {
        yield 1;
        await never;
        yield 2;
      } finally {
        exited = true;
      }
    }
    const seen: number[] = [];
    const subscription = from(producer()).subscribe((v) => seen.push(v));
    await turns();
    subscription.unsubscribe();
    await turns();
    expect(seen).toEqual([1]);
    expect(exited).toBe(false); // parked for ever: RxJS cannot reach it
  });

  it('[PP-05] library: a producer that sends with the consumer-side signal exits as soon as the consumer stops', async () => {
    const jobs = channel<number>({ capacity: 1 });
    const controller = new AbortController();
    const log: string[] = [];
    const producer = (async () => {
      try {
        for (let i = 0; ; i++) await jobs.send(i, { signal: controller.signal });
      } catch (err) {
        log.push(`stopped: ${(err as Error).message}`);
      } finally {
        log.push('exited');
      }
    })();
    const received: number[] = [];
    for await (const v of toAsyncIterable(jobs.observable)) {
      received.push(v);
      if (received.length === 3) break;
    }
    await turns();
    expect(await stateOf(producer)).toBe('pending'); // it waits for room: the channel is full
    expect(jobs.pendingSends).toBe(1);
    controller.abort(new Error('consumer stopped'));
    await producer;
    expect(received).toEqual([0, 1, 2]);
    expect(log).toEqual(['stopped: consumer stopped', 'exited']);
    expect(jobs.pendingSends).toBe(0);
  });

  it('[PP-05] library: close() rejects every waiting send with ClosedError, so no producer stays parked', async () => {
    const jobs = channel<number>({ capacity: 1 });
    jobs.trySend(0);
    const waiting = [jobs.send(1), jobs.send(2)];
    expect(jobs.pendingSends).toBe(2);
    jobs.close();
    const outcomes = await Promise.allSettled(waiting);
    expect(outcomes.map((o) => o.status === 'rejected' && o.reason instanceof ClosedError)).toEqual([true, true]);
    expect(jobs.pendingSends).toBe(0);
  });

  it('[PP-07] naive: eachValueFrom(from(generator)) runs the producer ahead; the loop sees the reused object mutated', async () => {
    const ids: string[] = [];
    for await (const job of eachValueFrom(from(reusingOneObject(['a', 'b', 'c'])))) {
      await turns(1); // the loop body does some async work before it reads the job
      ids.push(job.id);
    }
    expect(ids).toEqual(['c', 'c', 'c']);
  });

  it('[PP-07] library: toAsyncIterable(fromPull(generator)) resumes the producer only when the loop asks again', async () => {
    const ids: string[] = [];
    for await (const job of toAsyncIterable(fromPull(reusingOneObject(['a', 'b', 'c'])))) {
      await turns(1);
      ids.push(job.id);
    }
    expect(ids).toEqual(['a', 'b', 'c']);
  });

  it('[PP-08] library: with freeze, a consumer that mutates a batch fails loudly instead of corrupting it', () => {
    const errors: unknown[] = [];
    from([1, 2, 3, 4])
      .pipe(batchFresh<number>({ size: 2, freeze: true }), take(1))
      .subscribe({
        next: (batch) => {
          expect(Object.isFrozen(batch)).toBe(true);
          try {
            batch.length = 0;
          } catch (err) {
            errors.push(err);
          }
        },
      });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TypeError);
  });

  it('[PP-09] library: a send with no reader waits, and a signal bounds the wait; trySend never waits', async () => {
    const jobs = channel<number>({ capacity: 1 });
    await jobs.send(1); // room for one: accepted with nobody reading
    expect(jobs.trySend(2)).toBe(false);
    const controller = new AbortController();
    const blocked = jobs.send(2, { signal: controller.signal });
    await turns();
    expect(await stateOf(blocked)).toBe('pending');
    controller.abort(new Error('gave up waiting for a reader'));
    await expect(blocked).rejects.toThrow('gave up waiting for a reader');
    expect(jobs.size).toBe(1);
  });
});

function* reusingOneObject(values: readonly string[]): Generator<{ id: string }> {
  const job = { id: '' };
  for (const value of values) {
    job.id = value;
    yield job;
  }
}
