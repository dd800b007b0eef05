/**
 * The conservation law (docs/design.md) on the scenarios that broke it before: each value that
 * enters a stage is counted in exactly one state, by the stage's monitor and by drainOnComplete's
 * report. Each test is a case a user reported, with the figures it gives now.
 */
import { Subject, lastValueFrom, map, of, pipe, take, timer, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  batchFresh,
  batchMonitor,
  boundedBuffer,
  bufferMonitor,
  drainOnComplete,
  fromPull,
  mergeWorkers,
  orderedMerge,
  workerMonitor,
  type DrainReport,
  type Settled,
  type WorkerStats,
} from '../index.js';
import { marbles, probe } from './helpers.js';

function poolSum(s: WorkerStats): number {
  return s.queued + s.inFlight + s.held + s.completed + s.failed + s.aborted + s.dropped + s.discarded;
}

function reportSum(r: DrainReport): number {
  return r.completed + r.dropped + r.failed + r.aborted + r.neverStarted + r.undelivered + r.unaccounted;
}

describe('the conservation law, on the scenarios users reported', () => {
  it('workerMonitor after a take(10): 13 taken, 10 completed, 3 aborted, and the sum holds at every change', async () => {
    const monitor = workerMonitor();
    const broken: WorkerStats[] = [];
    monitor.changes.subscribe((s) => {
      if (poolSum(s) !== s.received) broken.push(s);
    });
    const settled: Settled[] = [];
    monitor.settled.subscribe((s) => settled.push(s));
    function* numbers(): Generator<number> {
      for (let i = 0; ; i++) yield i;
    }
    const out = await lastValueFrom(
      fromPull(numbers()).pipe(
        mergeWorkers(async (x: number) => x, { concurrency: 4, monitor }),
        take(10),
        toArray(),
      ),
    );
    expect(out).toHaveLength(10);
    const s = monitor.snapshot();
    expect(s).toMatchObject({ received: 13, completed: 10, aborted: 3, queued: 0, inFlight: 0, held: 0 });
    expect(poolSum(s)).toBe(s.received);
    expect(broken).toEqual([]);
    // By identity: the ten delivered values completed, the three others were aborted.
    const completed = settled.filter((e) => e.state === 'completed').map((e) => e.value);
    expect(completed.sort()).toEqual([...out].sort());
    expect(settled.filter((e) => e.state === 'aborted')).toHaveLength(3);
    expect(new Set(settled.map((e) => e.value)).size).toBe(13);
  });

  it('a drained buffer that dropped 97 of 100 values reports them as dropped, not completed', () => {
    const reports: DrainReport[] = [];
    const buffer = bufferMonitor();
    const out: number[] = [];
    marbles(({ cold }, scheduler) => {
      const source = new Subject<number>();
      const stop = new Subject<void>();
      source
        .pipe(
          drainOnComplete(
            pipe(
              boundedBuffer<number>({ capacity: 2, overflow: 'drop-oldest', monitor: buffer }),
              mergeWorkers((x: number) => cold('-----(x|)').pipe(map(() => x)), { concurrency: 1 }),
            ),
            { stop, deadline: 1000, scheduler, onReport: (r) => reports.push(r) },
          ),
        )
        .subscribe((x) => out.push(x));
      for (let i = 0; i < 100; i++) source.next(i);
      stop.next();
    });
    expect(out).toEqual([0, 98, 99]);
    expect(buffer.snapshot()).toMatchObject({ received: 100, emitted: 3, dropped: 97, discarded: 0, depth: 0 });
    expect(reports).toEqual([
      {
        outcome: 'drained',
        accepted: 100,
        completed: 3,
        dropped: 97,
        failed: 0,
        aborted: 0,
        neverStarted: 0,
        undelivered: 0,
        unaccounted: 0,
        stages: [{ operator: 'boundedBuffer', dropped: 97, failed: 0, aborted: 0, neverStarted: 0, undelivered: 0 }],
      },
    ]);
  });

  it('values that ran but whose results were held by a later stage are undelivered, never "never started"', () => {
    const reports: DrainReport[] = [];
    const started = new Set<number>();
    const batches = batchMonitor();
    const controller = new AbortController();
    marbles((_helpers, scheduler) => {
      const out = fromPull(Array.from({ length: 100 }, (_, i) => i)).pipe(
        drainOnComplete(
          pipe(
            mergeWorkers(
              (x: number) => {
                started.add(x);
                return of(x);
              },
              { concurrency: 4 },
            ),
            batchFresh<number>({ size: 5, maxPending: 1, monitor: batches }),
          ),
          { stop: controller.signal, deadline: 10, scheduler, onReport: (r) => reports.push(r) },
        ),
      );
      // A slow reader: it takes two batches, then never asks again.
      const reader = probe(out);
      reader.request(2);
      controller.abort();
      expect(reader.values.flat()).toHaveLength(10);
    });
    const r = reports[0]!;
    expect(r.outcome).toBe('deadline');
    expect(r.completed).toBe(10);
    // Every value the worker ran and whose result did not leave is undelivered: a service that
    // re-queues neverStarted values after a restart would not run any of them twice.
    expect(r.undelivered).toBe(started.size - 10);
    expect(r.neverStarted).toBe(r.accepted - started.size);
    expect(r.aborted).toBe(0);
    expect(reportSum(r)).toBe(r.accepted);
    expect(batches.snapshot()).toMatchObject({ valuesEmitted: 10, current: 0, valuesPending: 0 });
  });

  it('at a drain deadline a pool counts each value once: finished results it held are discarded, not also completed', () => {
    const monitor = workerMonitor();
    const reports: DrainReport[] = [];
    const controller = new AbortController();
    marbles(({ cold }, scheduler) => {
      const out = fromPull([1, 2, 3, 4, 5, 6]).pipe(
        drainOnComplete(
          orderedMerge((x: number) => cold(x === 1 ? '-------(x|)' : '-(x|)').pipe(map(() => x)), {
            concurrency: 3,
            monitor,
          }),
          { stop: controller.signal, deadline: 3, scheduler, onReport: (r) => reports.push(r) },
        ),
      );
      out.subscribe();
      controller.abort();
    });
    const s = monitor.snapshot();
    // 1 was running (aborted); 2 and 3 had finished behind it in the window (discarded, held no more).
    expect(s).toMatchObject({ received: 3, completed: 0, aborted: 1, discarded: 2, held: 0 });
    expect(poolSum(s)).toBe(s.received);
    expect(reports[0]).toMatchObject({ outcome: 'deadline', accepted: 3, aborted: 1, undelivered: 2, completed: 0 });
  });

  it('a slow timer-driven pool adds up in real time too', async () => {
    const monitor = workerMonitor();
    await lastValueFrom(
      fromPull([1, 2, 3, 4]).pipe(
        mergeWorkers((x: number) => timer(1).pipe(map(() => x)), { concurrency: 2, monitor }),
        toArray(),
      ),
    );
    const s = monitor.snapshot();
    expect(s).toMatchObject({ received: 4, completed: 4 });
    expect(poolSum(s)).toBe(4);
  });
});

describe('no silent misconfiguration', () => {
  it('an unknown option key is a TypeError that names the operator, the key and the nearest known key', () => {
    expect(() => mergeWorkers(async (x: number) => x, { concurrency: 2, retries: 3 } as never)).toThrow(
      "mergeWorkers: unknown option 'retries'; did you mean 'retry'?",
    );
    expect(() => boundedBuffer({ capacity: 2, overflow: 'error', ondrop: () => {} } as never)).toThrow(
      "boundedBuffer: unknown option 'ondrop'; did you mean 'onDrop'?",
    );
    expect(() =>
      mergeWorkers(async (x: number) => x, { concurrency: 2, retry: { count: 2, dealy: 5 } } as never),
    ).toThrow("mergeWorkers: unknown option 'dealy' in 'retry'; did you mean 'delay'?");
    expect(() => batchFresh({ size: 2, colour: 'red' } as never)).toThrow(
      /batchFresh: unknown option 'colour' \(known:/,
    );
    // orderedMerge knows 'window'; mergeWorkers does not.
    expect(() => mergeWorkers(async (x: number) => x, { concurrency: 2, window: 4 } as never)).toThrow(
      "mergeWorkers: unknown option 'window'",
    );
    expect(() => orderedMerge(async (x: number) => x, { concurrency: 2, window: 4 })).not.toThrow();
  });

  it("errors: 'continue' without onError is refused: a failure the pool goes on after must land somewhere", () => {
    expect(() => mergeWorkers(async (x: number) => x, { concurrency: 2, errors: 'continue' })).toThrow(
      "mergeWorkers: errors: 'continue' needs 'onError'",
    );
    expect(() =>
      mergeWorkers(async (x: number) => x, { concurrency: 2, errors: 'continue', onError: () => {} }),
    ).not.toThrow();
  });
});
