import { describe, expect, expectTypeOf, it } from 'vitest';
import { NEVER, firstValueFrom, map, mergeMap, of, range, take, tap, throwError, timer, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { eachValueFrom } from 'rxjs-for-await';
import fc from 'fast-check';
import {
  CancelledError,
  ClosedError,
  OverflowError,
  boundedBuffer,
  bufferMonitor,
  channel,
  drainOnComplete,
  fromPull,
  mergeWorkers,
  toAsyncIterable,
  workerMonitor,
  type DropEvent,
} from '../../index.js';
import { probe } from '../helpers.js';

/*
 * Failure modes BP-01..BP-20 that marbles cannot show: Promises, AbortSignals, web streams, and
 * properties over many shapes. The marble cases are in marbles/cases/failure-modes/bp.ts; the
 * catalog is docs/failure-modes.md. No assertion depends on wall-clock speed: virtual time,
 * or the order and counts of events around real microtasks and macrotasks.
 */

/** Lets queued microtasks and one macrotask turn run. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function virtual(run: (scheduler: TestScheduler) => void): void {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  scheduler.run(() => run(scheduler));
}

describe('BP-01 unbounded queue', () => {
  it('[BP-01] naive: eachValueFrom buffers everything a push source emits while the loop body awaits', async () => {
    let produced = 0;
    const source = range(0, 10_000).pipe(tap(() => produced++));
    for await (const value of eachValueFrom(source)) {
      expect(value).toBe(0);
      await tick(); // a slow loop body
      break;
    }
    // The whole burst was taken (and held) before the first iteration finished.
    expect(produced).toBe(10_000);
  });

  it('[BP-01] library: toAsyncIterable over a demand-aware source pulls one value per iteration', async () => {
    let produced = 0;
    function* numbers(): Generator<number> {
      for (let i = 0; i < 10_000; i++) {
        produced++;
        yield i;
      }
    }
    for await (const value of toAsyncIterable(fromPull(numbers()))) {
      expect(value).toBe(0);
      await tick();
      break;
    }
    expect(produced).toBe(1);
  });

  it('[BP-01] library: toAsyncIterable over a push source holds at most its capacity, then errors', async () => {
    const seen: number[] = [];
    const loop = async (): Promise<void> => {
      for await (const value of toAsyncIterable(range(0, 10_000), { capacity: 8 })) {
        seen.push(value);
        await tick();
      }
    };
    await expect(loop()).rejects.toThrow(OverflowError);
    expect(seen.length).toBeLessThanOrEqual(9);
  });
});

describe('BP-04 forgotten close', () => {
  it('[BP-04] library: a fromPull source completes when its generator returns, so for-await ends', async () => {
    async function* produce(): AsyncGenerator<number> {
      for (let i = 0; i < 3; i++) {
        await tick();
        yield i;
      }
      // returning is the close: there is nothing to forget
    }
    const results: number[] = [];
    for await (const value of toAsyncIterable(
      fromPull(produce()).pipe(mergeWorkers(async (v: number) => v * 10, { concurrency: 2 })),
    )) {
      results.push(value);
    }
    expect(results.sort((a, b) => a - b)).toEqual([0, 10, 20]);
  });
});

describe('BP-05 double close', () => {
  it('[BP-05] naive: a web ReadableStream controller closed twice throws (the JS form of the panic)', () => {
    let second: unknown;
    new ReadableStream({
      start(controller) {
        controller.close();
        try {
          controller.close();
        } catch (err) {
          second = err;
        }
      },
    });
    expect(second).toBeInstanceOf(TypeError);
    expect((second as { code?: string }).code).toBe('ERR_INVALID_STATE');
  });

  it('[BP-05] library: channel.close() is idempotent; accepted values are still delivered, once', async () => {
    const ch = channel<number>({ capacity: 4 });
    expect(ch.trySend(1)).toBe(true);
    expect(ch.trySend(2)).toBe(true);
    ch.close();
    expect(() => ch.close()).not.toThrow();
    expect(ch.closed).toBe(true);
    await expect(firstValueFrom(ch.observable.pipe(toArray()))).resolves.toEqual([1, 2]);
    await expect(firstValueFrom(ch.observable.pipe(toArray()))).resolves.toEqual([]);
  });
});

describe('BP-06 blocking send in a handler', () => {
  it('[BP-06] naive: handlers that await send() on a full channel pile up without answering', async () => {
    const ch = channel<number>({ capacity: 1 }); // the worker is stuck: nobody consumes
    const replies: string[] = [];
    const handler = async (req: number): Promise<void> => {
      await ch.send(req);
      replies.push('queued');
    };
    const handlers = Array.from({ length: 20 }, (_, i) => handler(i));
    await tick();
    expect(replies).toEqual(['queued']);
    expect(ch.pendingSends).toBe(19); // nineteen requests held open, each with its memory
    ch.close();
    const outcomes = await Promise.allSettled(handlers);
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(19);
  });

  it('[BP-06] library: trySend answers every request at once; waiting sends are bounded and withdrawable', async () => {
    const ch = channel<number>({ capacity: 1, maxPendingSends: 2 });
    const replies = Array.from({ length: 5 }, (_, i) => (ch.trySend(i) ? 202 : 503));
    expect(replies).toEqual([202, 503, 503, 503, 503]);
    expect(ch.pendingSends).toBe(0);

    // A handler that must wait can say for how long, and the number waiting is bounded.
    const abort = new AbortController();
    const waiting = ch.send(10, { signal: abort.signal });
    const alsoWaiting = ch.send(11);
    await expect(ch.send(12)).rejects.toThrow(OverflowError);
    abort.abort(new Error('request timed out'));
    await expect(waiting).rejects.toThrow('request timed out');
    expect(ch.pendingSends).toBe(1);
    ch.close();
    await expect(alsoWaiting).rejects.toThrow(ClosedError);
  });
});

describe('BP-08 check-then-act', () => {
  it('[BP-08] naive: a size check, an await, then send: two producers pass the check and one blocks', async () => {
    const ch = channel<string>({ capacity: 1 });
    const sent: string[] = [];
    const sendIfRoom = async (v: string): Promise<void> => {
      if (ch.size >= 1) return; // "never block"
      await tick(); // anything awaited here lets the other producer act
      await ch.send(v);
      sent.push(v);
    };
    const a = sendIfRoom('a');
    const b = sendIfRoom('b');
    await tick();
    await tick();
    expect(sent).toEqual(['a']);
    expect(ch.pendingSends).toBe(1); // the "non-blocking" send of b is blocked
    ch.close();
    await a;
    await expect(b).rejects.toThrow(ClosedError);
  });

  it('[BP-08] library: trySend after the same await accepts exactly one of two producers', async () => {
    const ch = channel<string>({ capacity: 1 });
    const offer = async (v: string): Promise<boolean> => {
      await tick();
      return ch.trySend(v);
    };
    const results = await Promise.all([offer('a'), offer('b')]);
    expect(results).toEqual([true, false]);
    expect(ch.size).toBe(1);
    expect(ch.pendingSends).toBe(0);
  });
});

describe('BP-09 worker without cancellation', () => {
  const STEPS = 20;

  it('[BP-09] naive: an async worker in mergeMap runs every step after take(1) unsubscribed', async () => {
    let steps = 0;
    const work = async (v: number): Promise<number> => {
      for (let i = 0; i < STEPS; i++) {
        await tick();
        steps++;
      }
      return v;
    };
    await firstValueFrom(of(1, 2, 3).pipe(mergeMap(work), take(1)));
    const atUnsubscribe = steps;
    for (let i = 0; i < STEPS + 2; i++) await tick();
    expect(atUnsubscribe).toBeLessThan(STEPS * 3);
    expect(steps).toBe(STEPS * 3); // the two unwanted jobs ran to the end
  });

  it('[BP-09] library: a worker that checks its signal stops at the next step after take(1)', async () => {
    let steps = 0;
    const reasons: unknown[] = [];
    const work = async (v: number, { signal }: { signal: AbortSignal }): Promise<number> => {
      for (let i = 0; i < (v === 1 ? 1 : STEPS); i++) {
        if (signal.aborted) {
          reasons.push((signal.reason as CancelledError).reason);
          throw signal.reason;
        }
        await tick();
        steps++;
      }
      return v;
    };
    await firstValueFrom(fromPull([1, 2, 3]).pipe(mergeWorkers(work, { concurrency: 3 }), take(1)));
    const atUnsubscribe = steps;
    for (let i = 0; i < STEPS + 2; i++) await tick();
    expect(reasons).toEqual(['unsubscribed', 'unsubscribed']);
    expect(steps - atUnsubscribe).toBeLessThanOrEqual(2); // at most the step each was in
  });
});

describe('BP-10 send after close', () => {
  it('[BP-10] library: send() after close() rejects with ClosedError, and a send waiting for room is rejected by close()', async () => {
    const ch = channel<number>({ capacity: 1 });
    await ch.send(1);
    const waiting = ch.send(2); // full: waits
    ch.close(); // the shutdown races the submit: the waiting submit is told
    await expect(waiting).rejects.toThrow(ClosedError);
    await expect(ch.send(3)).rejects.toThrow(ClosedError);
    expect(ch.trySend(4)).toBe(false);
    await expect(firstValueFrom(ch.observable.pipe(toArray()))).resolves.toEqual([1]);
  });
});

describe('BP-11 retry amplifying overload', () => {
  it('[BP-11] library: attempts are count + 1 at most, each wait within [backoff × (1 - jitter), backoff], backoff capped', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 400 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 8 }),
        (count, delay, maxDelay, jitter, randoms) => {
          const starts: number[] = [];
          let error: unknown;
          let i = 0;
          virtual((scheduler) => {
            of('x')
              .pipe(
                mergeWorkers(
                  () => {
                    starts.push(scheduler.now());
                    return throwError(() => new Error('overloaded'));
                  },
                  {
                    concurrency: 1,
                    scheduler,
                    retry: { count, delay, maxDelay, jitter, random: () => randoms[i++ % randoms.length]! },
                  },
                ),
              )
              .subscribe({ error: (err: unknown) => (error = err) });
          });
          expect(error).toEqual(new Error('overloaded'));
          expect(starts).toHaveLength(count + 1);
          for (let k = 1; k < starts.length; k++) {
            const backoff = Math.min(maxDelay, delay * 2 ** (k - 1));
            const wait = starts[k]! - starts[k - 1]!;
            expect(wait).toBeGreaterThanOrEqual(backoff * (1 - jitter) - 1e-9);
            expect(wait).toBeLessThanOrEqual(backoff + 1e-9);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('[BP-11] library: unsubscribing during a backoff cancels the pending retry', () => {
    const starts: number[] = [];
    virtual((scheduler) => {
      const subscription = of('x')
        .pipe(
          mergeWorkers(
            () => {
              starts.push(scheduler.now());
              return throwError(() => new Error('overloaded'));
            },
            { concurrency: 1, scheduler, retry: { count: 5, delay: 10, jitter: 0 } },
          ),
        )
        .subscribe({ error: () => undefined });
      scheduler.schedule(() => subscription.unsubscribe(), 15); // during the second backoff (10..30)
    });
    expect(starts).toEqual([0, 10]);
  });
});

describe('BP-13 wrong direction of close', () => {
  it('[BP-13] library: the consumer side of a channel has no close(); only the producer can end it', () => {
    const ch = channel<number>({ capacity: 1 });
    expectTypeOf(ch.observable).not.toHaveProperty('close');
    expect('close' in ch.observable).toBe(false);
    expectTypeOf(ch).toHaveProperty('close');
  });
});

describe('BP-17 drop-oldest that spins', () => {
  it('[BP-17] library: a burst of 100,000 into capacity 1 drop-oldest completes with exact counts, in arrival order', () => {
    const monitor = bufferMonitor();
    let drops = 0;
    let inOrder = true;
    const events: DropEvent[] = [];
    const p = probe(
      range(0, 100_000).pipe(
        boundedBuffer<number>({
          capacity: 1,
          overflow: 'drop-oldest',
          monitor,
          onDrop: (value, event) => {
            if (value !== drops) inOrder = false;
            drops++;
            if (events.length < 1) events.push(event);
          },
        }),
      ),
    );
    // Nothing was asked for yet: every arrival after the first evicted exactly one value.
    expect(monitor.snapshot()).toEqual({
      received: 100_000,
      emitted: 0,
      dropped: 99_999,
      discarded: 0,
      depth: 1,
      highWater: 1,
    });
    expect(drops).toBe(99_999);
    expect(inOrder).toBe(true);
    expect(events[0]).toMatchObject({ operator: 'boundedBuffer', reason: 'drop-oldest', capacity: 1 });
    p.request(1);
    expect(p.values).toEqual([99_999]);
    expect(p.completions).toBe(1);
  });
});

describe('BP-18 adaptive limiter without a floor', () => {
  it('[BP-18] library: a concurrency stream of 0, -3 or 0.5 is floored at 1 and every value is still worked', async () => {
    for (const limit of [0, -3, 0.5]) {
      let active = 0;
      let maxActive = 0;
      const results = await firstValueFrom(
        fromPull([1, 2, 3, 4]).pipe(
          mergeWorkers(
            async (v: number) => {
              maxActive = Math.max(maxActive, ++active);
              await tick();
              active--;
              return v;
            },
            { concurrency: of(limit) },
          ),
          toArray(),
        ),
      );
      expect(results).toEqual([1, 2, 3, 4]);
      expect(maxActive).toBe(1);
    }
  });

  it('[BP-18] library: a limiter that recovers raises concurrency again after the floor', () => {
    const activeAt: number[] = [];
    let active = 0;
    virtual((scheduler) => {
      const limit = timer(0, 10, scheduler).pipe(
        take(3),
        map((i) => [0, 0, 3][i]!),
      );
      fromPull(Array.from({ length: 12 }, (_, i) => i))
        .pipe(
          mergeWorkers(
            () => {
              activeAt.push(++active);
              return timer(5, scheduler).pipe(tap({ complete: () => active-- }));
            },
            { concurrency: limit },
          ),
        )
        .subscribe();
    });
    expect(Math.max(...activeAt.slice(0, 4))).toBe(1);
    expect(Math.max(...activeAt)).toBe(3);
  });
});

describe('BP-19 buffer larger than the latency objective allows', () => {
  it('[BP-19] library: with capacity = (objective - job) × workers / job, no served value waits past the objective', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom<'drop-oldest' | 'drop-newest'>('drop-oldest', 'drop-newest'),
        (burst, workers, job, slack, overflow) => {
          const objective = job * (1 + slack); // leaves room for at least one job's wait
          const capacity = Math.floor(((objective - job) * workers) / job);
          const waits: number[] = [];
          const monitor = workerMonitor();
          virtual((scheduler) => {
            range(0, burst)
              .pipe(
                mergeWorkers(
                  () => {
                    waits.push(scheduler.now()); // everything arrived at frame 0
                    return timer(job, scheduler);
                  },
                  { concurrency: workers, capacity, overflow, monitor },
                ),
              )
              .subscribe();
          });
          expect(Math.max(...waits) + job).toBeLessThanOrEqual(objective);
          expect(waits.length + monitor.snapshot().dropped).toBe(burst);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('[BP-19] naive: with the default capacity the worst wait grows with the burst, as depth / throughput', () => {
    for (const burst of [8, 64, 512]) {
      const waits: number[] = [];
      virtual((scheduler) => {
        range(0, burst)
          .pipe(
            mergeWorkers(
              () => {
                waits.push(scheduler.now());
                return timer(4, scheduler);
              },
              { concurrency: 2 },
            ),
          )
          .subscribe();
      });
      expect(Math.max(...waits)).toBe(((burst - 2) / 2) * 4);
    }
  });
});

describe('BP-20 deadline not inherited', () => {
  it('[BP-20] library: a signal derived from the worker’s with AbortSignal.any inherits the deadline and its reason', () => {
    const derived: AbortSignal[] = [];
    virtual((scheduler) => {
      of('a')
        .pipe(
          drainOnComplete(
            mergeWorkers(
              (_v: string, { signal }) => {
                derived.push(AbortSignal.any([signal, new AbortController().signal]));
                return NEVER;
              },
              { concurrency: 1 },
            ),
            { deadline: 5, scheduler },
          ),
        )
        .subscribe();
    });
    expect(derived).toHaveLength(1);
    const reason: unknown = derived[0]!.reason;
    expect(derived[0]!.aborted).toBe(true);
    expect(reason instanceof CancelledError && reason.reason).toBe('deadline');
  });

  it('[BP-20] library: Promise workers awaiting their signal are released at a real deadline with reason deadline', async () => {
    const reasons: unknown[] = [];
    const shutdown = new AbortController(); // SIGTERM, say
    setImmediate(() => shutdown.abort());
    const results = await firstValueFrom(
      fromPull([1, 2, 3]).pipe(
        drainOnComplete(
          mergeWorkers(
            (_v: number, { signal }) =>
              new Promise<number>((_resolve, reject) => {
                signal.addEventListener('abort', () => {
                  reasons.push((signal.reason as CancelledError).reason);
                  reject(signal.reason as Error);
                });
              }),
            { concurrency: 2 },
          ),
          { stop: shutdown.signal, deadline: 5 },
        ),
        toArray(),
      ),
    );
    expect(results).toEqual([]);
    expect(reasons).toEqual(['deadline', 'deadline']);
  });
});
