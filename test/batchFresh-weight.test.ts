/** batchFresh by weight (`weight` + `maxWeight`), as Akka's groupedWeightedWithin: "at most 1 MB per write". */
import fc from 'fast-check';
import { Subject, from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchFresh, batchMonitor, fromPull, type BatchStats } from '../index.js';
import { marbles, probe } from './helpers.js';

const len = (s: string): number => s.length;

describe('batchFresh by weight', () => {
  it('a batch closes before the value that would take it past maxWeight', () => {
    marbles(({ cold, expectObservable }) => {
      const source = cold('abcde|', { a: 'xx', b: 'yyy', c: 'z', d: 'wwww', e: 'v' });
      // xx + yyy reach 5 exactly and close at once; z + wwww again; v is the final partial batch.
      expectObservable(source.pipe(batchFresh({ weight: len, maxWeight: 5 }))).toBe('-x-y-(z|)', {
        x: ['xx', 'yyy'],
        y: ['z', 'wwww'],
        z: ['v'],
      });
    });
  });

  it('a batch that reaches maxWeight exactly closes at once', () => {
    marbles(({ cold, expectObservable }) => {
      const source = cold('abc|', { a: 'xx', b: 'yyy', c: 'z' });
      expectObservable(source.pipe(batchFresh({ weight: len, maxWeight: 5 }))).toBe('-x-(y|)', {
        x: ['xx', 'yyy'],
        y: ['z'],
      });
    });
  });

  it("a value heavier than maxWeight goes alone in its batch by default; oversized: 'error' fails", () => {
    const alone: string[] = [];
    marbles(({ cold }, scheduler) => {
      const source = cold('abc|', { a: 'x', b: 'toolong', c: 'y' });
      source
        .pipe(batchFresh({ weight: len, maxWeight: 3 }))
        .subscribe((b) => alone.push(`${scheduler.now()}:${b.join(',')}`));
    });
    expect(alone).toEqual(['1:x', '1:toolong', '3:y']);
    const monitor = batchMonitor();
    marbles(({ cold, expectObservable }) => {
      const source = cold('abc|', { a: 'x', b: 'toolong', c: 'y' });
      expectObservable(source.pipe(batchFresh({ weight: len, maxWeight: 3, oversized: 'error', monitor }))).toBe(
        '-#',
        undefined,
        new RangeError("batchFresh: a value weighs 7, more than 'maxWeight' (3); oversized: 'error'"),
      );
    });
    // 'x' was in the open batch, 'toolong' was refused: both discarded, counted.
    expect(monitor.snapshot()).toMatchObject({ received: 2, valuesDiscarded: 2, valuesEmitted: 0 });
  });

  it('size and maxWeight together: whichever comes first closes the batch', () => {
    const out: string[][] = [];
    from(['a', 'b', 'c', 'dddd', 'e'])
      .pipe(batchFresh({ size: 2, weight: len, maxWeight: 4 }))
      .subscribe((b) => out.push(b));
    expect(out).toEqual([['a', 'b'], ['c'], ['dddd'], ['e']]);
  });

  it('a weight function that throws, or returns a bad number, fails the stream naming it', () => {
    const errors: unknown[] = [];
    from([1, 2])
      .pipe(batchFresh({ weight: () => Number.NaN, maxWeight: 2 }))
      .subscribe({ error: (e: unknown) => errors.push(e) });
    from([1, 2])
      .pipe(
        batchFresh({
          weight: () => {
            throw new Error('no weight');
          },
          maxWeight: 2,
        }),
      )
      .subscribe({ error: (e: unknown) => errors.push(e) });
    expect(String(errors[0])).toBe("TypeError: batchFresh: 'weight' must return a finite number >= 0, got NaN");
    expect(String(errors[1])).toBe('Error: no weight');
  });

  it('from a pausable source it asks for one value at a time, so nothing is read that would not fit', () => {
    const pulled: string[] = [];
    function* words(): Generator<string> {
      for (const w of ['aa', 'bb', 'cc', 'dd', 'ee']) {
        pulled.push(w);
        yield w;
      }
    }
    const reader = probe(fromPull(words()).pipe(batchFresh({ weight: len, maxWeight: 4 })));
    reader.request(1);
    expect(reader.values).toEqual([['aa', 'bb']]);
    // One complete batch waits at most (maxPending 1), plus the value that did not fit it.
    expect(pulled.length).toBeLessThanOrEqual(2 + 2 + 1);
    reader.request(10);
    expect(reader.values).toEqual([['aa', 'bb'], ['cc', 'dd'], ['ee']]);
  });

  it('bad options fail fast, naming batchFresh and the parameter', () => {
    expect(() => batchFresh({ weight: len })).toThrow("batchFresh: 'weight' and 'maxWeight' go together");
    expect(() => batchFresh({ maxWeight: 3 })).toThrow("batchFresh: 'weight' and 'maxWeight' go together");
    expect(() => batchFresh({ weight: len, maxWeight: 0 })).toThrow(
      /batchFresh: 'maxWeight' must be a finite number > 0/,
    );
    expect(() => batchFresh({ weight: len, maxWeight: Infinity })).toThrow(/'maxWeight' must be a finite number > 0/);
    expect(() => batchFresh({ weight: 3 as never, maxWeight: 3 })).toThrow(/batchFresh: 'weight' must be a function/);
    expect(() => batchFresh({ weight: len, maxWeight: 3, oversized: 'split' as never })).toThrow(
      /batchFresh: 'oversized' must be 'alone' or 'error'/,
    );
    expect(() => batchFresh({ size: 2, oversized: 'error' })).toThrow("batchFresh: 'oversized' needs 'weight'");
  });

  it('property: no batch passes maxWeight unless it is one oversized value; values in order, each once, counted', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
        (weights, maxWeight, size) => {
          const monitor = batchMonitor();
          const broken: BatchStats[] = [];
          monitor.changes.subscribe((s) => {
            const sum = s.valuesEmitted + s.current + s.valuesPending + s.valuesDropped + s.valuesDiscarded;
            if (sum !== s.received) broken.push(s);
          });
          const source = new Subject<number>();
          const out: number[][] = [];
          source
            .pipe(batchFresh({ weight: (i: number) => weights[i]!, maxWeight, size, monitor }))
            .subscribe((b) => out.push(b));
          weights.forEach((_, i) => source.next(i));
          source.complete();
          expect(out.flat()).toEqual(weights.map((_, i) => i));
          for (const batch of out) {
            const load = batch.reduce((a, i) => a + weights[i]!, 0);
            if (batch.length > 1) expect(load).toBeLessThanOrEqual(maxWeight);
            if (size !== undefined) expect(batch.length).toBeLessThanOrEqual(size);
          }
          expect(broken).toEqual([]);
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 200) },
    );
  });
});
