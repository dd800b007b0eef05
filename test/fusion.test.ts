import { describe, expect, it } from 'vitest';
import { NEVER, Subject, of, range, take, takeUntil } from 'rxjs';
import { ProtocolError, channel, fromPull, mergeWorkers, orderedMerge, workerMonitor } from '../index.js';
import { END, demandProtocolOf, type DemandHandle, type DemandObserver } from '../lib/core/protocol.js';
import { countingIterable } from './helpers.js';

/** Subscribes through the handshake asking for fusion, as a pool does; records what arrives. */
function fusedProbe<T>(source: Parameters<typeof demandProtocolOf<T>>[0], fallback = 3) {
  const seen = { values: [] as T[], errors: [] as unknown[], completed: 0 };
  let handle: DemandHandle | undefined;
  const observer: DemandObserver<T> = {
    start(h) {
      handle = h;
      h.fuse!(fallback);
    },
    next: (v) => seen.values.push(v),
    error: (e) => seen.errors.push(e),
    complete: () => seen.completed++,
  };
  demandProtocolOf(source)!.subscribe(observer);
  return { seen, handle: handle! };
}

describe('synchronous fusion (DemandHandle.fuse / poll)', () => {
  it('is granted by fromPull over a sync iterable: values are polled one at a time, nothing is pushed', () => {
    const src = countingIterable(3);
    const { seen, handle } = fusedProbe(fromPull(src.iterable));
    expect(handle.isFused!()).toBe(true);
    expect(src.pulled()).toBe(0);
    expect(seen.values).toEqual([]);
    expect(handle.poll!()).toBe(0);
    expect(src.pulled()).toBe(1);
    expect(handle.poll!()).toBe(1);
    expect(handle.poll!()).toBe(2);
    expect(seen.completed).toBe(0);
    // The end is signalled to the observer during the poll that finds it, which returns END.
    expect(handle.poll!()).toBe(END);
    expect(seen.completed).toBe(1);
    expect(handle.poll!()).toBe(END);
    expect(seen.completed).toBe(1);
    expect(seen.values).toEqual([]);
  });

  it('is granted by fromPull over an array', () => {
    const { seen, handle } = fusedProbe(fromPull(['a', 'b']));
    expect(handle.isFused!()).toBe(true);
    expect([handle.poll!(), handle.poll!(), handle.poll!()]).toEqual(['a', 'b', END]);
    expect(seen.completed).toBe(1);
  });

  it('an iterator that throws: the error is signalled during the poll, which returns END', () => {
    const boom = new Error('boom');
    const iterable: Iterable<number> = {
      [Symbol.iterator]: () => ({
        next: () => {
          throw boom;
        },
      }),
    };
    const { seen, handle } = fusedProbe(fromPull(iterable));
    expect(handle.poll!()).toBe(END);
    expect(seen.errors).toEqual([boom]);
  });

  it('a source that cannot be polled takes fuse(n) as request(n), made before it connects', () => {
    const ch = channel<number>({ capacity: 4 });
    void ch.send(1);
    void ch.send(2);
    void ch.send(3);
    void ch.send(4);
    const { seen, handle } = fusedProbe(ch.observable, 2);
    expect(handle.isFused!()).toBe(false);
    expect(seen.values).toEqual([1, 2]);
    handle.request(1);
    expect(seen.values).toEqual([1, 2, 3]);
  });

  it('an async iterable is not fused, and gets the fallback request', async () => {
    async function* gen(): AsyncGenerator<number> {
      yield 1;
      yield 2;
    }
    const { seen, handle } = fusedProbe(fromPull(gen()), 1);
    expect(handle.isFused!()).toBe(false);
    await new Promise((r) => setTimeout(r, 0));
    expect(seen.values).toEqual([1]);
  });

  it('request(n) after fusion was granted is a ProtocolError, and the source is released', () => {
    const src = countingIterable();
    const { seen, handle } = fusedProbe(fromPull(src.iterable));
    expect(handle.poll!()).toBe(0);
    handle.request(1);
    expect(seen.errors).toHaveLength(1);
    expect(seen.errors[0]).toBeInstanceOf(ProtocolError);
    expect(String(seen.errors[0])).toMatch(/fromPull: request\(n\) after fuse\(\) was granted/);
    expect(src.returned()).toBe(true);
    expect(handle.poll!()).toBe(END);
  });

  it('an invalid fallback is a ProtocolError, as an invalid request is', () => {
    const { seen } = fusedProbe(fromPull([1]), -1);
    expect(seen.errors[0]).toBeInstanceOf(ProtocolError);
  });

  it('after cancel, poll gives END and the iterator was returned', () => {
    const src = countingIterable();
    const { handle } = fusedProbe(fromPull(src.iterable));
    expect(handle.poll!()).toBe(0);
    handle.cancel();
    expect(src.returned()).toBe(true);
    expect(handle.poll!()).toBe(END);
    expect(src.pulled()).toBe(1);
  });

  it('a pool over a fused source still pulls only for free slots, and counts every value', async () => {
    const src = countingIterable(1000);
    const monitor = workerMonitor();
    let maxAhead = 0;
    let delivered = 0;
    await new Promise<void>((resolve, reject) => {
      fromPull(src.iterable)
        .pipe(
          mergeWorkers(
            async (x: number) => {
              maxAhead = Math.max(maxAhead, src.pulled() - delivered);
              await Promise.resolve();
              return x;
            },
            { concurrency: 4, monitor },
          ),
        )
        .subscribe({ next: () => delivered++, error: reject, complete: resolve });
    });
    expect(delivered).toBe(1000);
    expect(maxAhead).toBeLessThanOrEqual(4);
    const stats = monitor.snapshot();
    expect(stats.received).toBe(1000);
    expect(stats.completed).toBe(1000);
  });

  it('a pool over a fused source: take(n) stops an endless one, nothing pulled beyond the slots', () => {
    const src = countingIterable();
    const got: number[] = [];
    fromPull(src.iterable)
      .pipe(
        orderedMerge((x: number) => of(x * 2), { concurrency: 3 }),
        take(5),
      )
      .subscribe((v) => got.push(v));
    expect(got).toEqual([0, 2, 4, 6, 8]);
    expect(src.pulled()).toBeLessThanOrEqual(5 + 3);
    expect(src.returned()).toBe(true);
  });

  it('a pool over a push source behind its queue is not fused and behaves as before', () => {
    let n = 0;
    range(0, 10_000)
      .pipe(mergeWorkers((x: number) => of(x), { concurrency: 4 }))
      .subscribe(() => n++);
    expect(n).toBe(10_000);
  });
  it('a source that ends the pool while making a value: that value is not taken', () => {
    // The iterator fires a takeUntil notifier downstream while it makes its third value.
    const m = workerMonitor();
    const stop = new Subject<void>();
    let made = 0;
    const iterator = {
      [Symbol.iterator]() {
        return this;
      },
      next() {
        if (made === 2) stop.next();
        return { done: false, value: made++ };
      },
    };
    const p = { completed: 0 };
    fromPull(() => iterator)
      .pipe(
        mergeWorkers(() => NEVER, { concurrency: 4, monitor: m }),
        takeUntil(stop),
      )
      .subscribe({ complete: () => p.completed++ });
    expect(p.completed).toBe(1);
    expect(m.snapshot()).toMatchObject({ received: 2, queued: 0, inFlight: 0, aborted: 2 });
  });
});
