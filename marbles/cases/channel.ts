import { Observable, map, merge, take } from 'rxjs';
import { channel, type Channel } from '../../operators/channel.js';
import { defineCase, defineCases } from '../case.js';
import { pullEvery } from '../testing.js';

/*
 * In these cases the source row is the producer: each value is offered to the channel when it
 * arrives (with send() or trySend()), and the source's completion closes the channel. The
 * output row is what a slow consumer, pullEvery(3), reads from the channel. The consumer
 * subscribes first, so it is already asking when `a` arrives.
 *
 * send() only settles its promise in a microtask, after the TestScheduler has flushed; what the
 * cases check in `verify` is the channel's own bookkeeping (size, waiting senders), which is
 * synchronous. The promises' outcomes are covered by test/channel.test.ts.
 */

interface ChannelContext {
  readonly ch: Channel<string>;
  /** The most senders seen waiting at once. */
  maxPending: number;
  /** Values trySend refused. */
  readonly refused: string[];
  /** Senders still waiting when the channel was closed (they are rejected with ClosedError). */
  pendingAtClose: number;
}

function context(capacity: number): ChannelContext {
  return { ch: channel<string>({ capacity }), maxPending: 0, refused: [], pendingAtClose: -1 };
}

type Offer = (ctx: ChannelContext, value: string) => void;

const send: Offer = (ctx, value) => {
  // The promise rejects (ClosedError, or the abort reason) for values never accepted; those are
  // what the cases show, not failures.
  ctx.ch.send(value).catch(() => undefined);
  ctx.maxPending = Math.max(ctx.maxPending, ctx.ch.pendingSends);
};

const trySend: Offer = (ctx, value) => {
  if (!ctx.ch.trySend(value)) ctx.refused.push(value);
};

/** Subscribes `consumer$` first, then feeds `source$` into the channel and closes it at the end. */
function produceInto<T>(
  source$: Observable<string>,
  ctx: ChannelContext,
  offer: Offer,
  consumer$: Observable<T>,
): Observable<T> {
  return new Observable<T>((subscriber) => {
    const output = consumer$.subscribe(subscriber);
    const input = source$.subscribe({
      next: (value) => offer(ctx, value),
      complete: () => {
        ctx.pendingAtClose = ctx.ch.pendingSends;
        ctx.ch.close();
      },
    });
    return () => {
      input.unsubscribe();
      output.unsubscribe();
    };
  });
}

export const channelCases = defineCases('channel', [
  defineCase({
    id: 'channel-send-waits',
    title: 'channel: send() waits while the channel is full, so a slow consumer still gets every value',
    description:
      'Capacity 2: b and c fill the channel while the consumer is busy with a; d and e each wait as a ' +
      'pending send until a pull frees a slot. close() at frame 8 finds nobody waiting, so the ' +
      'accepted values are still delivered and completion follows the last one.',
    source: { marbles: 'abcde---|' },
    operatorLabel: 'channel({ capacity: 2 }): send(v) per value, close() on complete → pullEvery(3)',
    context: () => context(2),
    pipeline: (source$: Observable<string>, { scheduler, context: ctx }) =>
      produceInto(source$, ctx, send, ctx.ch.observable.pipe(pullEvery(3, scheduler))),
    expected: { marbles: 'a--b--c--d--(e|)' },
    subscriptions: { source: '^-------!' },
    verify: ({ context: ctx, expect }) => {
      expect(ctx.maxPending).toBe(1);
      expect(ctx.pendingAtClose).toBe(0);
      expect(ctx.ch.size).toBe(0);
      expect(ctx.ch.closed).toBe(true);
    },
  }),

  defineCase({
    id: 'channel-trySend',
    title: 'channel: trySend() never waits; a value offered while the channel is full is refused',
    description:
      'd arrives while b and c fill the channel and is refused (trySend returns false); by the time ' +
      'e arrives the consumer has taken b, so e is accepted.',
    source: { marbles: 'abcde---|' },
    operatorLabel: 'channel({ capacity: 2 }): trySend(v) per value, close() on complete → pullEvery(3)',
    context: () => context(2),
    pipeline: (source$: Observable<string>, { scheduler, context: ctx }) =>
      produceInto(source$, ctx, trySend, ctx.ch.observable.pipe(pullEvery(3, scheduler))),
    expected: { marbles: 'a--b--c--(e|)' },
    subscriptions: { source: '^-------!' },
    verify: ({ context: ctx, expect }) => {
      expect(ctx.refused).toEqual(['d']);
      expect(ctx.maxPending).toBe(0);
    },
  }),

  defineCase({
    id: 'channel-close-rejects-waiting',
    title: 'channel: close() rejects the senders still waiting; what was accepted is delivered, then completion',
    description:
      'The source completes at frame 5 while e waits for room: close() rejects its send with a ' +
      'ClosedError, and c and d, already in the channel, still reach the consumer.',
    source: { marbles: 'abcde|' },
    operatorLabel: 'channel({ capacity: 2 }): send(v) per value, close() on complete → pullEvery(3)',
    context: () => context(2),
    pipeline: (source$: Observable<string>, { scheduler, context: ctx }) =>
      produceInto(source$, ctx, send, ctx.ch.observable.pipe(pullEvery(3, scheduler))),
    expected: { marbles: 'a--b--c--(d|)' },
    subscriptions: { source: '^----!' },
    verify: ({ context: ctx, expect }) => {
      expect(ctx.pendingAtClose).toBe(1);
      expect(ctx.ch.pendingSends).toBe(0);
      expect(ctx.ch.size).toBe(0);
    },
  }),

  defineCase({
    id: 'channel-abort',
    title: 'channel: aborting the signal of a waiting send withdraws it; its value is never delivered',
    description:
      'Capacity 1: b fills the channel, c waits for room. The abort at frame 3 rejects that send with ' +
      "the signal's reason and frees its place, so the pull at frame 4 takes b and nothing follows.",
    source: { marbles: 'abc-----|' },
    inner: { abort: { marbles: '---x' } },
    operatorLabel: 'channel({ capacity: 1 }): send(v, { signal }) per value, abort on x → pullEvery(4)',
    context: () => ({ ...context(1), controller: new AbortController() }),
    pipeline: (source$: Observable<string>, { scheduler, inner, context: ctx }) =>
      new Observable<string>((subscriber) => {
        const output = ctx.ch.observable.pipe(pullEvery(4, scheduler)).subscribe(subscriber);
        const aborter = inner.abort.pipe(take(1)).subscribe(() => {
          ctx.pendingAtClose = ctx.ch.pendingSends; // just before the abort
          ctx.controller.abort(new Error('client went away'));
        });
        const input = source$.subscribe({
          next: (value) => {
            ctx.ch.send(value, { signal: ctx.controller.signal }).catch(() => undefined);
            ctx.maxPending = Math.max(ctx.maxPending, ctx.ch.pendingSends);
          },
          complete: () => ctx.ch.close(),
        });
        return () => {
          input.unsubscribe();
          aborter.unsubscribe();
          output.unsubscribe();
        };
      }),
    expected: { marbles: 'a---b---|' },
    subscriptions: { source: '^-------!', inner: { abort: '^--!' } },
    verify: ({ context: ctx, expect }) => {
      expect(ctx.maxPending).toBe(1);
      expect(ctx.pendingAtClose).toBe(1);
      expect(ctx.ch.pendingSends).toBe(0);
      expect(ctx.ch.size).toBe(0);
    },
  }),

  defineCase({
    id: 'channel-work-queue',
    title: 'channel: two consumers share the values, each value to exactly one of them',
    description:
      'A fast consumer (pullEvery(2), lower case) and a slow one (pullEvery(6), upper case) read the ' +
      'same channel: each takes the next value when it asks, so the fast one takes more of them. ' +
      'Every value appears exactly once, and both complete after close().',
    source: { marbles: 'abcdefgh|' },
    operatorLabel: 'channel({ capacity: 8 }) → merge(pullEvery(2), pullEvery(6) + toUpperCase)',
    context: () => context(8),
    pipeline: (source$: Observable<string>, { scheduler, context: ctx }) =>
      produceInto(
        source$,
        ctx,
        trySend,
        merge(
          ctx.ch.observable.pipe(pullEvery(2, scheduler)),
          ctx.ch.observable.pipe(
            pullEvery(6, scheduler),
            map((v) => v.toUpperCase()),
          ),
        ),
      ),
    expected: { marbles: 'aBc-d-eFg-(h|)' },
    subscriptions: { source: '^-------!' },
    verify: ({ context: ctx, expect }) => {
      expect(ctx.refused).toEqual([]);
      expect(ctx.ch.size).toBe(0);
    },
  }),
]);
