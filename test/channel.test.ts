import { describe, expect, expectTypeOf, it } from 'vitest';
import { config, finalize, firstValueFrom, map, take, toArray } from 'rxjs';
import fc from 'fast-check';
import { ClosedError, OverflowError, channel, isDemandAware, type Channel, type DemandObservable } from '../index.js';
import { probe, type Probe } from './helpers.js';

/** Lets every queued promise reaction run (a macrotask comes after all microtasks). */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type Settled = 'pending' | 'fulfilled' | 'rejected';

/** Watches a promise without leaving it unhandled; `state()` reads how it has settled so far. */
function watch(promise: Promise<unknown>): { state(): Settled; reason(): unknown } {
  let state: Settled = 'pending';
  let reason: unknown;
  promise.then(
    () => (state = 'fulfilled'),
    (err: unknown) => {
      state = 'rejected';
      reason = err;
    },
  );
  return { state: () => state, reason: () => reason };
}

function filled(capacity: number, values: number[]): Channel<number> {
  const ch = channel<number>({ capacity });
  for (const v of values) expect(ch.trySend(v)).toBe(true);
  return ch;
}

describe('channel: options', () => {
  it('has the public types', () => {
    const ch = channel<string>({ capacity: 1 });
    expectTypeOf(ch.observable).toEqualTypeOf<DemandObservable<string>>();
    expectTypeOf(ch.send).returns.toEqualTypeOf<Promise<void>>();
    expect(isDemandAware(ch.observable)).toBe(true);
  });

  it('fails fast on bad options, naming channel and the parameter', () => {
    const bad: [unknown, RegExp, ErrorConstructor][] = [
      [{ capacity: 0 }, /^channel: 'capacity' must be a positive integer, got 0$/, RangeError],
      [{ capacity: -1 }, /^channel: 'capacity' .* got -1$/, RangeError],
      [{ capacity: NaN }, /^channel: 'capacity' .* got NaN$/, RangeError],
      [{ capacity: 1.5 }, /^channel: 'capacity' .* got 1.5$/, RangeError],
      [{ capacity: Infinity }, /^channel: 'capacity' .* got Infinity$/, RangeError],
      [{ capacity: '3' }, /^channel: 'capacity' .* got "3"$/, TypeError],
      [{}, /^channel: 'capacity' .* got undefined$/, TypeError],
      [
        { capacity: 1, maxPendingSends: 0 },
        /^channel: 'maxPendingSends' must be a positive integer, got 0$/,
        RangeError,
      ],
      [{ capacity: 1, maxPendingSends: -2 }, /^channel: 'maxPendingSends' .* got -2$/, RangeError],
      [{ capacity: 1, maxPendingSends: 2.5 }, /^channel: 'maxPendingSends' .* got 2.5$/, RangeError],
      [{ capacity: 1, maxPendingSends: '8' }, /^channel: 'maxPendingSends' .* got "8"$/, TypeError],
      [undefined, /^channel: 'options' must be an options object, got undefined$/, TypeError],
      [3, /^channel: 'options' must be an options object, got 3$/, TypeError],
    ];
    for (const [options, message, type] of bad) {
      expect(() => channel(options as never), JSON.stringify(options)).toThrow(type);
      expect(() => channel(options as never), JSON.stringify(options)).toThrow(message);
    }
  });

  it('defaults maxPendingSends to 1024', async () => {
    const ch = channel<number>({ capacity: 1 });
    ch.trySend(0);
    const waiting = Array.from({ length: 1024 }, (_, i) => watch(ch.send(i + 1)));
    const overflow = watch(ch.send(-1));
    expect(ch.pendingSends).toBe(1024);
    await flush();
    expect(overflow.state()).toBe('rejected');
    expect(waiting.every((w) => w.state() === 'pending')).toBe(true);
    ch.close();
    await flush();
    expect(waiting.every((w) => w.state() === 'rejected')).toBe(true);
  });
});

describe('channel: the canonical cases', () => {
  it('never: an open channel nobody sends to signals nothing', () => {
    const ch = channel<number>({ capacity: 2 });
    const p = probe(ch.observable, undefined, 5);
    expect(p.values).toEqual([]);
    expect(p.completions).toBe(0);
    expect(p.errors).toEqual([]);
  });

  it('empty: a channel closed with nothing in it completes each subscriber, with or without demand', () => {
    const ch = channel<number>({ capacity: 2 });
    const early = probe(ch.observable);
    ch.close();
    expect(early.completions).toBe(1);
    const late = probe(ch.observable);
    expect(late.completions).toBe(1);
    expect(late.values).toEqual([]);
  });

  it('values: delivered in send order, then completion after close', async () => {
    const ch = filled(3, [1, 2, 3]);
    ch.close();
    expect(ch.closed).toBe(true);
    expect(await firstValueFrom(ch.observable.pipe(toArray()))).toEqual([1, 2, 3]);
  });

  it('values sent before close are still delivered, and completion waits for them (and for demand)', () => {
    const ch = filled(4, [1, 2, 3]);
    ch.close();
    expect(ch.size).toBe(3);
    const p = probe(ch.observable);
    p.request(2);
    expect(p.values).toEqual([1, 2]);
    expect(p.completions).toBe(0);
    p.request(1);
    expect(p.values).toEqual([1, 2, 3]);
    expect(p.completions).toBe(1); // the last value empties it: complete without further demand
    expect(p.afterTerminal).toBe(0);
  });

  it('error: a subscriber whose pipeline throws loses the value it was handed; the channel goes on', async () => {
    const ch = filled(4, [1, 2, 3]);
    let error: unknown;
    ch.observable
      .pipe(
        map((v) => {
          if (v === 1) throw new Error('bad value');
          return v;
        }),
      )
      .subscribe({ error: (e: unknown) => (error = e) });
    expect(String(error)).toBe('Error: bad value');
    // Handed out is gone (documented); the rest waits for the next consumer.
    expect(ch.size).toBe(2);
    ch.close();
    expect(await firstValueFrom(ch.observable.pipe(toArray()))).toEqual([2, 3]);
  });

  it("a subscriber callback that throws is reported by RxJS and does not break the channel's delivery", async () => {
    const seen: unknown[] = [];
    config.onUnhandledError = (err) => seen.push(err);
    try {
      const ch = channel<number>({ capacity: 4 });
      const got: number[] = [];
      ch.observable.subscribe((v) => {
        got.push(v);
        if (v === 1) throw new Error('handler bug');
      });
      expect(ch.trySend(1)).toBe(true);
      expect(ch.trySend(2)).toBe(true);
      expect(got).toEqual([1, 2]);
      expect(ch.size).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 0)); // RxJS reports on a timer
      expect(seen.map(String)).toEqual(['Error: handler bug']);
    } finally {
      config.onUnhandledError = null;
    }
  });

  it('never-ending: an open channel keeps delivering as values arrive, without completing', () => {
    const ch = channel<number>({ capacity: 1 });
    const p = probe(ch.observable, undefined, Infinity);
    for (let i = 0; i < 1000; i++) expect(ch.trySend(i)).toBe(true);
    expect(p.values).toHaveLength(1000);
    expect(ch.size).toBe(0);
    expect(p.completions).toBe(0);
  });

  it('early unsubscribe: a cancelled subscriber gets nothing more and queued values stay for others', () => {
    const ch = filled(4, [1, 2, 3]);
    const p = probe(ch.observable, undefined, 1);
    p.cancel();
    p.request(5);
    expect(p.values).toEqual([1]);
    expect(ch.size).toBe(2);
    const q = probe(ch.observable, undefined, 5);
    expect(q.values).toEqual([2, 3]);
  });

  it('early unsubscribe of an ordinary subscriber (Subscription.unsubscribe) stops delivery to it', () => {
    const ch = channel<number>({ capacity: 4 });
    const got: number[] = [];
    const sub = ch.observable.subscribe((v) => got.push(v));
    ch.trySend(1);
    sub.unsubscribe();
    ch.trySend(2);
    expect(got).toEqual([1]);
    expect(ch.size).toBe(1);
  });

  it('a synchronous take stops the burst: the rest stays queued', async () => {
    const ch = filled(10, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await firstValueFrom(ch.observable.pipe(take(3), toArray()))).toEqual([0, 1, 2]);
    expect(ch.size).toBe(7);
    expect(await firstValueFrom(ch.observable.pipe(take(2), toArray()))).toEqual([3, 4]);
  });

  it('finalize around the observable runs on close (after complete) and on unsubscribe', () => {
    const log: string[] = [];
    const ch = filled(2, [1]);
    ch.observable.pipe(finalize(() => log.push('finalize'))).subscribe({
      next: (v) => log.push(`next ${v}`),
      complete: () => log.push('complete'),
    });
    ch.close();
    expect(log).toEqual(['next 1', 'complete', 'finalize']);

    const open = channel<number>({ capacity: 2 });
    const sub = open.observable.pipe(finalize(() => log.push('finalize 2'))).subscribe();
    expect(log).toHaveLength(3);
    sub.unsubscribe();
    expect(log[3]).toBe('finalize 2');
  });

  it('reentrancy: trySend from inside next is delivered in order, without recursion', () => {
    const ch = channel<number>({ capacity: 1 });
    let depth = 0;
    let maxDepth = 0;
    const p = probe(
      ch.observable,
      (v) => {
        depth++;
        maxDepth = Math.max(maxDepth, depth);
        if (v < 10_000) expect(ch.trySend(v + 1)).toBe(true);
        depth--;
      },
      Infinity,
    );
    ch.trySend(0);
    expect(p.values).toHaveLength(10_001);
    expect(p.values[10_000]).toBe(10_000);
    expect(maxDepth).toBe(1);
  });

  it('reentrancy: request(1) from inside next drains one value at a time at constant depth', () => {
    const ch = filled(5, [1, 2, 3, 4, 5]);
    let depth = 0;
    let maxDepth = 0;
    const p = probe(
      ch.observable,
      (_v, self) => {
        depth++;
        maxDepth = Math.max(maxDepth, depth);
        self.request(1);
        depth--;
      },
      1,
    );
    expect(p.values).toEqual([1, 2, 3, 4, 5]);
    expect(maxDepth).toBe(1);
  });

  it('reentrancy: close() from inside next still delivers what was queued, then completes', () => {
    const ch = filled(3, [1, 2, 3]);
    const p = probe(ch.observable, (v) => v === 1 && ch.close(), Infinity);
    expect(p.values).toEqual([1, 2, 3]);
    expect(p.completions).toBe(1);
  });
});

describe('channel: send and trySend', () => {
  it('send resolves at once while there is room', async () => {
    const ch = channel<number>({ capacity: 2 });
    await ch.send(1);
    await ch.send(2);
    expect(ch.size).toBe(2);
    expect(ch.pendingSends).toBe(0);
  });

  it('send waits while the channel is full and resolves when a consumer makes room', async () => {
    const ch = filled(2, [1, 2]);
    const third = watch(ch.send(3));
    await flush();
    expect(third.state()).toBe('pending');
    expect(ch.pendingSends).toBe(1);
    expect(ch.size).toBe(2);

    const p = probe(ch.observable);
    p.request(1);
    expect(p.values).toEqual([1]);
    // The waiting value moved into the freed slot at once; only the promise settles later.
    expect(ch.pendingSends).toBe(0);
    expect(ch.size).toBe(2);
    await flush();
    expect(third.state()).toBe('fulfilled');
    p.request(5);
    expect(p.values).toEqual([1, 2, 3]);
  });

  it('waiting senders are admitted oldest first', async () => {
    const ch = filled(1, [0]);
    const sends = [1, 2, 3].map((v) => watch(ch.send(v)));
    const p = probe(ch.observable, undefined, 2);
    expect(p.values).toEqual([0, 1]);
    await flush();
    expect(sends.map((s) => s.state())).toEqual(['fulfilled', 'fulfilled', 'pending']);
    p.request(2);
    expect(p.values).toEqual([0, 1, 2, 3]);
  });

  it('trySend returns false when full and when closed, true otherwise', () => {
    const ch = channel<number>({ capacity: 1 });
    expect(ch.trySend(1)).toBe(true);
    expect(ch.trySend(2)).toBe(false);
    expect(ch.size).toBe(1);
    const p = probe(ch.observable, undefined, 1);
    expect(p.values).toEqual([1]);
    expect(ch.trySend(3)).toBe(true);
    ch.close();
    probe(ch.observable, undefined, 1);
    expect(ch.size).toBe(0);
    expect(ch.trySend(4)).toBe(false);
    expect(ch.size).toBe(0);
  });

  it('trySend does not jump ahead of waiting senders', () => {
    const ch = filled(1, [0]);
    void ch.send(1);
    const p = probe(ch.observable, undefined, 1);
    expect(p.values).toEqual([0]);
    // The freed slot went to the waiting sender, so the channel is full again.
    expect(ch.trySend(2)).toBe(false);
    p.request(5);
    expect(p.values).toEqual([0, 1]);
  });

  it('send to a closed channel rejects with ClosedError naming channel', async () => {
    const ch = channel<number>({ capacity: 1 });
    ch.close();
    const err: unknown = await ch.send(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClosedError);
    expect((err as ClosedError).operator).toBe('channel');
    expect((err as Error).message).toBe('channel: closed');
  });

  it('close() twice is fine, and waiting senders reject with ClosedError on the first', async () => {
    const ch = filled(1, [0]);
    const a = watch(ch.send(1));
    const b = watch(ch.send(2));
    ch.close();
    expect(() => ch.close()).not.toThrow();
    expect(ch.pendingSends).toBe(0);
    await flush();
    expect(a.state()).toBe('rejected');
    expect(b.state()).toBe('rejected');
    expect(a.reason()).toBeInstanceOf(ClosedError);
    expect(b.reason()).toBeInstanceOf(ClosedError);
    // The value accepted before close is still there; the rejected ones are not.
    expect(await firstValueFrom(ch.observable.pipe(toArray()))).toEqual([0]);
  });

  it('an aborted signal rejects a waiting send with the reason and frees its place', async () => {
    const ch = channel<number>({ capacity: 1, maxPendingSends: 1 });
    ch.trySend(0);
    const controller = new AbortController();
    const aborted = watch(ch.send(1, { signal: controller.signal }));
    // The only place in the waiting queue is taken.
    const refused = watch(ch.send(2));
    await flush();
    expect(refused.state()).toBe('rejected');

    const reason = new Error('client went away');
    controller.abort(reason);
    expect(ch.pendingSends).toBe(0);
    await flush();
    expect(aborted.state()).toBe('rejected');
    expect(aborted.reason()).toBe(reason);

    // Its place is free again, and its value is never delivered.
    const next = watch(ch.send(3));
    expect(ch.pendingSends).toBe(1);
    const p = probe(ch.observable, undefined, 5);
    expect(p.values).toEqual([0, 3]);
    await flush();
    expect(next.state()).toBe('fulfilled');
  });

  it('aborting without a reason rejects with the signal’s AbortError', async () => {
    const ch = filled(1, [0]);
    const controller = new AbortController();
    const send = ch.send(1, { signal: controller.signal });
    controller.abort();
    const err: unknown = await send.catch((e: unknown) => e);
    expect(err).toBe(controller.signal.reason);
    expect((err as Error).name).toBe('AbortError');
  });

  it('an aborted signal in the middle of the waiting queue keeps the others in order', async () => {
    const ch = filled(1, [0]);
    const controller = new AbortController();
    const first = watch(ch.send(1));
    const middle = watch(ch.send(2, { signal: controller.signal }));
    const last = watch(ch.send(3));
    controller.abort('stop');
    expect(ch.pendingSends).toBe(2);
    const p = probe(ch.observable, undefined, 10);
    expect(p.values).toEqual([0, 1, 3]);
    await flush();
    expect([first.state(), middle.state(), last.state()]).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(middle.reason()).toBe('stop');
  });

  it('an already-aborted signal rejects at once, even when there is room, and sends nothing', async () => {
    const ch = channel<number>({ capacity: 4 });
    const reason = new Error('already');
    const err: unknown = await ch.send(1, { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(err).toBe(reason);
    expect(ch.size).toBe(0);
    expect(ch.pendingSends).toBe(0);
  });

  it('aborting after the value was accepted changes nothing (the listener is removed)', async () => {
    const ch = filled(1, [0]);
    const controller = new AbortController();
    const send = watch(ch.send(1, { signal: controller.signal }));
    const p = probe(ch.observable, undefined, 1);
    expect(p.values).toEqual([0]);
    controller.abort('late');
    await flush();
    expect(send.state()).toBe('fulfilled');
    p.request(1);
    expect(p.values).toEqual([0, 1]);
  });

  it('close removes the abort listeners of the senders it rejects', async () => {
    const ch = filled(1, [0]);
    const controller = new AbortController();
    const send = watch(ch.send(1, { signal: controller.signal }));
    ch.close();
    controller.abort('after close');
    await flush();
    expect(send.reason()).toBeInstanceOf(ClosedError);
    expect(ch.pendingSends).toBe(0);
  });

  it('one send more than maxPendingSends rejects with an OverflowError', async () => {
    const ch = channel<number>({ capacity: 1, maxPendingSends: 2 });
    ch.trySend(0);
    const a = watch(ch.send(1));
    const b = watch(ch.send(2));
    const err: unknown = await ch.send(3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OverflowError);
    expect(err).toMatchObject({ operator: 'channel', capacity: 2, policy: 'max-pending-sends' });
    expect((err as Error).message).toMatch(/^channel: /);
    expect(ch.pendingSends).toBe(2);
    const p = probe(ch.observable, undefined, 10);
    expect(p.values).toEqual([0, 1, 2]);
    await flush();
    expect([a.state(), b.state()]).toEqual(['fulfilled', 'fulfilled']);
  });

  it('send from inside next (a consumer that feeds the channel) resolves and is delivered', async () => {
    const ch = channel<number>({ capacity: 1 });
    const sends: Promise<void>[] = [];
    const p = probe(
      ch.observable,
      (v) => {
        if (v < 5) sends.push(ch.send(v + 1));
      },
      Infinity,
    );
    await ch.send(0);
    expect(p.values).toEqual([0, 1, 2, 3, 4, 5]);
    await expect(Promise.all(sends)).resolves.toHaveLength(5);
  });
});

describe('channel: several subscribers (work queue)', () => {
  it('each value goes to exactly one subscriber, round-robin among those with demand', () => {
    const ch = channel<number>({ capacity: 16 });
    const a = probe(ch.observable, undefined, Infinity);
    const b = probe(ch.observable, undefined, Infinity);
    const c = probe(ch.observable, undefined, Infinity);
    for (let i = 0; i < 9; i++) ch.trySend(i);
    expect(a.values).toEqual([0, 3, 6]);
    expect(b.values).toEqual([1, 4, 7]);
    expect(c.values).toEqual([2, 5, 8]);
  });

  it('skips subscribers without demand and gives the rest to those asking', () => {
    const ch = channel<number>({ capacity: 16 });
    const a = probe(ch.observable, undefined, 1);
    const b = probe(ch.observable, undefined, 3);
    for (let i = 0; i < 6; i++) ch.trySend(i);
    expect(a.values).toEqual([0]);
    expect(b.values).toEqual([1, 2, 3]);
    expect(ch.size).toBe(2);
    const c = probe(ch.observable, undefined, 5); // a late subscriber gets only what is left
    expect(c.values).toEqual([4, 5]);
  });

  it('two ordinary subscribers share the values of a synchronous burst', () => {
    const ch = channel<number>({ capacity: 8 });
    const a: number[] = [];
    const b: number[] = [];
    ch.observable.subscribe((v) => a.push(v));
    ch.observable.subscribe((v) => b.push(v));
    for (let i = 0; i < 6; i++) ch.trySend(i);
    expect([...a, ...b].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(a).toHaveLength(3);
    expect(b).toHaveLength(3);
  });

  it('close completes every subscriber once the last value has gone', () => {
    const ch = filled(4, [1, 2]);
    const a = probe(ch.observable);
    const b = probe(ch.observable);
    ch.close();
    expect(a.completions + b.completions).toBe(0);
    a.request(1);
    b.request(1);
    expect([...a.values, ...b.values].sort()).toEqual([1, 2]);
    expect(a.completions).toBe(1);
    expect(b.completions).toBe(1);
  });

  it('a subscriber leaving in the middle of a burst hands the rest to the others', () => {
    const ch = channel<number>({ capacity: 8 });
    const a: number[] = [];
    ch.observable.pipe(take(2)).subscribe((v) => a.push(v));
    const b = probe(ch.observable, undefined, Infinity);
    for (let i = 0; i < 6; i++) ch.trySend(i);
    expect(a).toEqual([0, 2]);
    expect(b.values).toEqual([1, 3, 4, 5]);
  });

  it('property: across 1-3 subscribers nothing is lost or duplicated, order is kept, nobody is overrun', async () => {
    type Step =
      | { op: 'trySend' }
      | { op: 'send'; abortable: boolean }
      | { op: 'abort'; pick: number }
      | { op: 'subscribe' }
      | { op: 'request'; who: number; n: number }
      | { op: 'cancel'; who: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      { arbitrary: fc.constant({ op: 'trySend' } as const), weight: 3 },
      { arbitrary: fc.record({ op: fc.constant('send' as const), abortable: fc.boolean() }), weight: 4 },
      { arbitrary: fc.record({ op: fc.constant('abort' as const), pick: fc.nat(20) }), weight: 1 },
      { arbitrary: fc.constant({ op: 'subscribe' } as const), weight: 1 },
      {
        arbitrary: fc.record({
          op: fc.constant('request' as const),
          who: fc.nat(2),
          n: fc.integer({ min: 1, max: 4 }),
        }),
        weight: 4,
      },
      { arbitrary: fc.record({ op: fc.constant('cancel' as const), who: fc.nat(2) }), weight: 1 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(step, { maxLength: 60 }),
        async (capacity, maxPendingSends, script) => {
          const ch = channel<number>({ capacity, maxPendingSends });
          interface Sub {
            p: Probe<number>;
            asked: number;
            live: boolean;
          }
          const subs: Sub[] = [];
          const delivered: number[] = []; // every value handed to any subscriber, in time order
          const refused: number[] = []; // trySend false
          const sendResults: Promise<[number, 'ok' | 'closed' | 'aborted' | 'overflow' | 'other']>[] = [];
          const abortable: AbortController[] = [];
          let nextValue = 0;
          const subscribe = (): void => {
            const p = probe<number>(ch.observable, (v) => delivered.push(v));
            subs.push({ p, asked: 0, live: true });
          };
          const invariants = (): void => {
            const outstanding = subs.filter((s) => s.live).reduce((sum, s) => sum + s.asked - s.p.values.length, 0);
            // A value never waits while a live subscriber is asking for one.
            if (ch.size > 0) expect(outstanding).toBe(0);
            // Senders wait only when the channel is full.
            if (ch.pendingSends > 0) expect(ch.size).toBe(capacity);
            expect(ch.size).toBeLessThanOrEqual(capacity);
            expect(ch.pendingSends).toBeLessThanOrEqual(maxPendingSends);
            for (const s of subs) expect(s.p.values.length).toBeLessThanOrEqual(s.asked);
          };
          subscribe();
          for (const s of script) {
            switch (s.op) {
              case 'trySend': {
                const v = nextValue++;
                if (!ch.trySend(v)) refused.push(v);
                break;
              }
              case 'send': {
                const v = nextValue++;
                const controller = s.abortable ? new AbortController() : undefined;
                if (controller !== undefined) abortable.push(controller);
                sendResults.push(
                  ch.send(v, { signal: controller?.signal }).then(
                    () => [v, 'ok'] as const,
                    (err: unknown) => [
                      v,
                      err instanceof ClosedError
                        ? 'closed'
                        : err instanceof OverflowError
                          ? 'overflow'
                          : err === 'aborted'
                            ? 'aborted'
                            : 'other',
                    ],
                  ),
                );
                break;
              }
              case 'abort':
                abortable[s.pick % Math.max(1, abortable.length)]?.abort('aborted');
                break;
              case 'subscribe':
                if (subs.length < 3) subscribe();
                break;
              case 'request': {
                const sub = subs[s.who % subs.length];
                if (sub !== undefined) {
                  sub.asked += s.n;
                  sub.p.request(s.n);
                }
                break;
              }
              case 'cancel': {
                const sub = subs[s.who % subs.length];
                if (sub !== undefined) {
                  sub.live = false;
                  sub.p.cancel();
                }
                break;
              }
            }
            invariants();
          }
          // Close, and drain what is left with a fresh subscriber.
          ch.close();
          const rest = probe<number>(ch.observable, undefined, Infinity);
          expect(rest.completions).toBe(1);
          const outcomes = await Promise.all(sendResults);
          expect(outcomes.filter(([, o]) => o === 'other')).toEqual([]);

          const received = [...delivered, ...rest.values];
          // None duplicated, and the channel is FIFO across all subscribers together.
          expect(received).toEqual([...received].sort((a, b) => a - b));
          expect(new Set(received).size).toBe(received.length);
          // None lost: every value offered was received, refused, or its send rejected.
          const notDelivered = [...refused, ...outcomes.filter(([, o]) => o !== 'ok').map(([v]) => v)];
          expect([...received, ...notDelivered].sort((a, b) => a - b)).toEqual(
            Array.from({ length: nextValue }, (_, i) => i),
          );
          // A send resolved exactly when its value was accepted (so it was received).
          for (const [v, o] of outcomes) expect(received.includes(v)).toBe(o === 'ok');
          for (const sub of subs) {
            expect(sub.p.afterTerminal).toBe(0);
            if (sub.live) expect(sub.p.completions).toBe(1);
            else expect(sub.p.completions).toBe(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('channel: round-robin after a consumer leaves', () => {
  it('the consumer whose turn was next keeps its turn when an earlier one unsubscribes', () => {
    const ch = channel<number>({ capacity: 4 });
    const a = probe(ch.observable);
    const b = probe(ch.observable);
    const c = probe(ch.observable);
    a.request(1);
    b.request(1);
    c.request(1);
    ch.trySend(0); // a
    ch.trySend(1); // b; c is next
    a.cancel();
    b.request(1);
    ch.trySend(2);
    expect(c.values).toEqual([2]);
    expect(b.values).toEqual([1]);
  });
});
