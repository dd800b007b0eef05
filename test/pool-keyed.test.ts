/** Keyed concurrency on mergeWorkers and orderedMerge: one at a time per key, in order, keys in parallel. */
import fc from 'fast-check';
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { fromPull, mergeWorkers, orderedMerge, workerMonitor, type WorkerStats } from '../index.js';
import { countingIterable, marbles } from './helpers.js';

const keyOf = (v: string): string => v[0]!;

describe('keyed concurrency', () => {
  it('values of one key run one at a time and in order; other keys run beside them', () => {
    const started: string[] = [];
    const results: string[] = [];
    marbles(({ cold }, scheduler) => {
      const out = cold('(abcde|)', { a: 'a1', b: 'a2', c: 'b1', d: 'a3', e: 'b2' }).pipe(
        mergeWorkers(
          (v: string) => {
            started.push(`${scheduler.now()}${v}`);
            return cold('--(x|)').pipe(map(() => v));
          },
          { concurrency: 3, key: keyOf },
        ),
      );
      out.subscribe((v) => results.push(`${scheduler.now()}${v}`));
    });
    // a1 and b1 start at 0; a2 and b2 when their key is free (2); a3 after a2 (4).
    expect(started).toEqual(['0a1', '0b1', '2a2', '2b2', '4a3']);
    expect(results).toEqual(['2a1', '2b1', '4a2', '4b2', '6a3']);
  });

  it('a hot key holds one slot: values of other keys that have arrived start before its later values', () => {
    const started: string[] = [];
    const results: string[] = [];
    marbles(({ cold }, scheduler) => {
      const out = cold('(abcde|)', { a: 'h1', b: 'h2', c: 'h3', d: 'c1', e: 'd1' }).pipe(
        mergeWorkers(
          (v: string) => {
            started.push(`${scheduler.now()}${v}`);
            return cold('----(x|)').pipe(map(() => v));
          },
          { concurrency: 2, key: keyOf },
        ),
      );
      out.subscribe((v) => results.push(`${scheduler.now()}${v}`));
    });
    expect(results).toEqual(['4h1', '4c1', '8h2', '8d1', '12h3']);
    // c1 started beside h1 although h2 and h3 came first; d1 beside h2.
    expect(started).toEqual(['0h1', '0c1', '4h2', '4d1', '8h3']);
  });

  it('reads past a busy key by at most capacity values, and holds nothing once done', () => {
    const counted = countingIterable(50);
    const monitor = workerMonitor();
    let maxQueued = 0;
    monitor.changes.subscribe((s) => (maxQueued = Math.max(maxQueued, s.queued)));
    marbles(({ cold }) => {
      fromPull(counted.iterable)
        .pipe(
          mergeWorkers((x: number) => cold('-(x|)').pipe(map(() => x)), {
            concurrency: 3,
            key: () => 'hot',
            capacity: 4,
            monitor,
          }),
        )
        .subscribe();
    });
    expect(counted.pulled()).toBe(50);
    // One running, the next of its key about to start, and at most `capacity` read past them.
    expect(maxQueued).toBeLessThanOrEqual(4 + 1);
    expect(monitor.snapshot()).toMatchObject({ received: 50, completed: 50, queued: 0, inFlight: 0 });
  });

  it('orderedMerge with a key keeps the input order overall', () => {
    const results: string[] = [];
    marbles(({ cold }, scheduler) => {
      const out = cold('(abc|)', { a: 'a1', b: 'b1', c: 'a2' }).pipe(
        orderedMerge((v: string) => cold(v === 'b1' ? '-----(x|)' : '-(x|)').pipe(map(() => v)), {
          concurrency: 2,
          key: keyOf,
        }),
      );
      out.subscribe((v) => results.push(`${scheduler.now()}${v}`));
    });
    // a1 leaves at 1; a2 waits for a1 (its key), runs 1..2, then waits for b1 (the order).
    expect(results).toEqual(['1a1', '5b1', '5a2']);
  });

  it('a key function that throws fails the pool with what it threw, and the value is counted', () => {
    const monitor = workerMonitor();
    const boom = new Error('no key');
    marbles(({ cold, expectObservable }) => {
      const out = cold('ab|').pipe(
        mergeWorkers((v: string) => cold('---(x|)').pipe(map(() => v)), {
          concurrency: 2,
          monitor,
          key: (v) => {
            if (v === 'b') throw boom;
            return v;
          },
        }),
      );
      expectObservable(out).toBe('-#', undefined, boom);
    });
    expect(monitor.snapshot()).toMatchObject({ received: 2, aborted: 1, discarded: 1 });
  });

  it('property: no two values of a key run at once, each key keeps its order, every value is accounted for', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.integer({ min: 0, max: 3 }), duration: fc.integer({ min: 0, max: 5 }) }), {
          maxLength: 25,
        }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        (items, concurrency, ordered) => {
          const running = new Map<number, number>();
          let overlap = false;
          const monitor = workerMonitor();
          const broken: WorkerStats[] = [];
          monitor.changes.subscribe((s) => {
            const sum = s.queued + s.inFlight + s.held + s.completed + s.failed + s.aborted + s.dropped + s.discarded;
            if (sum !== s.received) broken.push(s);
          });
          const out: number[] = [];
          marbles(({ cold }) => {
            const operator = ordered ? orderedMerge : mergeWorkers;
            fromPull(items.map((_, i) => i))
              .pipe(
                operator(
                  (i: number) => {
                    const k = items[i]!.key;
                    running.set(k, (running.get(k) ?? 0) + 1);
                    if (running.get(k)! > 1) overlap = true;
                    return cold(`${'-'.repeat(items[i]!.duration)}(x|)`).pipe(
                      map(() => {
                        running.set(k, running.get(k)! - 1);
                        return i;
                      }),
                    );
                  },
                  { concurrency, key: (i: number) => items[i]!.key, monitor },
                ),
              )
              .subscribe((i) => out.push(i));
          });
          expect(overlap).toBe(false);
          expect([...out].sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
          for (let k = 0; k <= 3; k++) {
            const ofKey = out.filter((i) => items[i]!.key === k);
            expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
          }
          if (ordered) expect(out).toEqual(items.map((_, i) => i));
          expect(broken).toEqual([]);
          expect(monitor.snapshot()).toMatchObject({ received: items.length, completed: items.length });
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 200) },
    );
  });
});
