import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { NEVER, Subject, finalize, firstValueFrom, map, of, take, toArray } from 'rxjs';
import { abortable, fromPull, isDemandAware, mergeWorkers, orderedMerge, type Cancellation } from '../index.js';
import { demandSource } from '../lib/core/producer.js';
import { countingIterable, probe } from './helpers.js';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('abortable', () => {
  it('validates its argument and keeps the handshake of a demand-aware source', () => {
    expect(() => abortable({} as never)).toThrow("abortable: 'signal' must be an AbortSignal, got an object");
    const signal = new AbortController().signal;
    expect(isDemandAware(fromPull([1]).pipe(abortable(signal)))).toBe(true);
    expect(isDemandAware(of(1).pipe(abortable(signal)))).toBe(false);
  });

  it('passes demand through: a slow consumer pulls one value at a time from the generator', () => {
    const counted = countingIterable();
    const p = probe(fromPull(counted.iterable).pipe(abortable(new AbortController().signal)));
    expect(counted.pulled()).toBe(0);
    p.request(2);
    expect(p.values).toEqual([0, 1]);
    expect(counted.pulled()).toBe(2);
    p.cancel();
    expect(counted.returned()).toBe(true);
  });

  it("at the intake, the signal's reason reaches every worker's signal, in every pool after it", async () => {
    const controller = new AbortController();
    const first: AbortSignal[] = [];
    const second: AbortSignal[] = [];
    const counted = countingIterable();
    const done = firstValueFrom(
      fromPull(counted.iterable).pipe(
        abortable(controller.signal),
        mergeWorkers((v: number, { signal }) => (first.push(signal), v < 2 ? of(v) : NEVER), { concurrency: 3 }),
        orderedMerge((_v: number, { signal }) => (second.push(signal), NEVER), { concurrency: 2 }),
      ),
    );
    await flush();
    // 0 and 1 finish at once and go on to the second pool; 2, 3 and 4 keep the first pool busy.
    expect(first).toHaveLength(5);
    expect(second).toHaveLength(2);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(done).rejects.toBe(reason);
    for (const signal of [...first.slice(2), ...second]) {
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toMatchObject({ name: 'CancelledError', reason: 'source-failed', cause: reason });
    }
    expect(first.slice(0, 2).some((s) => s.aborted)).toBe(false); // finished work is not aborted
    expect(counted.returned()).toBe(true);
  });

  it('last in the pipeline, it fails with the reason and cancels upstream with it as the cause', async () => {
    const cancellations: (Cancellation | undefined)[] = [];
    const source = demandSource<number>('recording', () => ({
      pump: () => undefined,
      teardown: (c) => cancellations.push(c),
    }));
    const controller = new AbortController();
    const errors: unknown[] = [];
    source.pipe(abortable(controller.signal)).subscribe({ error: (e: unknown) => errors.push(e) });
    controller.abort('stop');
    expect(errors).toEqual(['stop']);
    expect(cancellations).toEqual([{ reason: 'unsubscribed', cause: 'stop' }]);
  });

  it("last after a pool, the signal's reason reaches every running worker's signal as the cause", async () => {
    const signals: AbortSignal[] = [];
    const controller = new AbortController();
    const reason = new Error('user left the page');
    const errors: unknown[] = [];
    fromPull([1, 2, 3])
      .pipe(
        mergeWorkers(
          (_x: number, { signal }) => {
            signals.push(signal);
            return NEVER;
          },
          { concurrency: 2 },
        ),
        abortable(controller.signal),
      )
      .subscribe({ error: (e: unknown) => errors.push(e) });
    controller.abort(reason);
    expect(errors).toEqual([reason]);
    expect(signals).toHaveLength(2);
    for (const signal of signals) {
      expect(signal.reason).toMatchObject({ name: 'CancelledError', reason: 'unsubscribed', cause: reason });
    }
  });

  it('an already aborted signal fails at once without subscribing to the source', () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    const counted = countingIterable();
    const events = new Subject<number>();
    const errors: unknown[] = [];
    fromPull(counted.iterable)
      .pipe(abortable(controller.signal))
      .subscribe({ error: (e: unknown) => errors.push(e) });
    events.pipe(abortable(controller.signal)).subscribe({ error: (e: unknown) => errors.push(e) });
    expect(errors.map((e) => (e as Error).message)).toEqual(['too late', 'too late']);
    expect(counted.pulled()).toBe(0);
    expect(events.observed).toBe(false);
  });

  it('a push source: aborting errors and unsubscribes it; completion removes the listener', async () => {
    const controller = new AbortController();
    const events = new Subject<number>();
    const seen: number[] = [];
    const errors: unknown[] = [];
    events
      .pipe(abortable(controller.signal))
      .subscribe({ next: (v) => seen.push(v), error: (e: unknown) => errors.push(e) });
    events.next(1);
    controller.abort('bye');
    events.next(2);
    expect(seen).toEqual([1]);
    expect(errors).toEqual(['bye']);
    expect(events.observed).toBe(false);

    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('removes its abort listener when the subscription ends, however it ends', async () => {
    const { signal } = new AbortController();
    expect(await firstValueFrom(of(1, 2).pipe(abortable(signal), toArray()))).toEqual([1, 2]);
    expect(await firstValueFrom(fromPull([1, 2]).pipe(abortable(signal), toArray()))).toEqual([1, 2]);
    const sub = fromPull(countingIterable().iterable).pipe(abortable(signal), take(0)).subscribe();
    fromPull(countingIterable().iterable).pipe(abortable(signal), take(5)).subscribe();
    sub.unsubscribe();
    const live = NEVER.pipe(abortable(signal)).subscribe();
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    live.unsubscribe();
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('a synchronous endless source stopped by take, and finalize order', () => {
    const order: string[] = [];
    const counted = countingIterable();
    const seen: number[] = [];
    fromPull(counted.iterable)
      .pipe(
        finalize(() => order.push('source')),
        abortable(new AbortController().signal),
        map((v) => v * 2),
        take(3),
        finalize(() => order.push('subscriber')),
      )
      .subscribe((v) => seen.push(v));
    expect(seen).toEqual([0, 2, 4]);
    expect(counted.returned()).toBe(true);
    expect(order).toEqual(['source', 'subscriber']);
  });
});
