import { take } from 'rxjs';
import { OverflowError } from '../../lib/core/errors.js';
import { batchFresh, batchMonitor } from '../../operators/batchFresh.js';
import { boundedBuffer, bufferMonitor } from '../../operators/boundedBuffer.js';
import { defineCase, defineCases } from '../case.js';
import { pullEvery } from '../testing.js';

/*
 * Batches are drawn as letters (x, y, z, ...) whose arrays are listed in the legend. Timers run
 * on the run's TestScheduler, so `maxWait: 5` is five frames. The slow consumer is pullEvery(n):
 * it asks for one batch, then spends n frames on it before asking for the next.
 */

export const batchFreshCases = defineCases('batchFresh', [
  defineCase({
    id: 'batchFresh-size',
    title: 'batchFresh by size: a batch closes when it holds `size` values; the partial one is flushed on completion',
    source: { marbles: 'abcdefg|' },
    operatorLabel: 'batchFresh({ size: 3 })',
    operator: () => batchFresh<string>({ size: 3 }),
    expected: { marbles: '--x--y-(z|)', values: { x: ['a', 'b', 'c'], y: ['d', 'e', 'f'], z: ['g'] } },
    subscriptions: { source: '^------!' },
  }),

  defineCase({
    id: 'batchFresh-time',
    title: 'batchFresh by time: the timer starts with a batch’s first value, so an idle source gives no empty batch',
    description: 'a starts a batch at 0 that closes at 5; nothing arrives from 5 to 10, and nothing is emitted.',
    source: { marbles: 'a-b-------c--|' },
    operatorLabel: 'batchFresh({ maxWait: 5 })',
    operator: ({ scheduler }) => batchFresh<string>({ maxWait: 5, scheduler }),
    expected: { marbles: '-----x-------(y|)', values: { x: ['a', 'b'], y: ['c'] } },
    subscriptions: { source: '^------------!' },
  }),

  defineCase({
    id: 'batchFresh-size-and-time',
    title: 'batchFresh by size and time: whichever comes first closes the batch',
    description: 'abc fill a batch at 2; d waits alone until its timer at 8; efg fill the next batch at 12.',
    source: { marbles: 'abcd------efg-|' },
    operatorLabel: 'batchFresh({ size: 3, maxWait: 5 })',
    operator: ({ scheduler }) => batchFresh<string>({ size: 3, maxWait: 5, scheduler }),
    expected: {
      marbles: '--x-----y---z-|',
      values: { x: ['a', 'b', 'c'], y: ['d'], z: ['e', 'f', 'g'] },
    },
    subscriptions: { source: '^-------------!' },
  }),

  defineCase({
    id: 'batchFresh-demand',
    title:
      'batchFresh behind a slow demand-aware consumer: a batch is emitted only when asked for, even when its timer fires',
    description:
      'The boundedBuffer makes the source pausable. [b, c] closes on its timer at 5 while the consumer is busy, ' +
      'and waits until it asks at 10. d times out at 8 while [b, c] waits, so its batch stays open and closes ' +
      'when [b, c] leaves. Nothing more is asked for meanwhile: e and f wait upstream until [d] is emitted at 18, ' +
      'and go out as the final batch at 26.',
    source: { marbles: 'a--bc-d-ef---|' },
    operatorLabel:
      "boundedBuffer({ capacity: 10, overflow: 'error' }) → batchFresh({ size: 3, maxWait: 2 }) → pullEvery(8)",
    context: () => ({ batches: batchMonitor(), upstream: bufferMonitor() }),
    operator:
      ({ scheduler, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer({ capacity: 10, overflow: 'error', monitor: context.upstream }),
          batchFresh<string>({ size: 3, maxWait: 2, scheduler, monitor: context.batches }),
          pullEvery(8, scheduler),
        ),
    expected: {
      marbles: '--x-------y-------z-------(w|)',
      values: { x: ['a'], y: ['b', 'c'], z: ['d'], w: ['e', 'f'] },
    },
    subscriptions: { source: '^------------!' },
    diagram: { frameWidth: 30 },
  }),

  defineCase({
    id: 'batchFresh-overflow-drop-oldest',
    title: 'batchFresh over a push source: a batch that closes while maxPending batches wait drops the oldest one',
    description:
      '[a, b] goes to the consumer at once; [c, d] waits (maxPending 1) and is dropped when [e, f] closes at 5.',
    source: { marbles: 'abcdef--|' },
    operatorLabel: "batchFresh({ size: 2, overflow: 'drop-oldest' }) → pullEvery(5)",
    context: () => ({ monitor: batchMonitor() }),
    operator:
      ({ scheduler, context }) =>
      (source$) =>
        source$.pipe(
          batchFresh<string>({ size: 2, overflow: 'drop-oldest', monitor: context.monitor }),
          pullEvery(5, scheduler),
        ),
    expected: { marbles: '-x----y-|', values: { x: ['a', 'b'], y: ['e', 'f'] } },
    subscriptions: { source: '^-------!' },
    verify: ({ context, expect }) => {
      expect(context.monitor.snapshot()).toEqual({
        received: 6,
        emitted: 2,
        valuesEmitted: 4,
        dropped: 1,
        valuesDropped: 2,
        discarded: 0,
        valuesDiscarded: 0,
        valuesLost: 2,
        pending: 0,
        valuesPending: 0,
        current: 0,
      });
    },
  }),

  defineCase({
    id: 'batchFresh-overflow-error',
    title: 'batchFresh over a push source: by default a batch that does not fit fails the stream with an OverflowError',
    source: { marbles: 'abcdef--|' },
    operatorLabel: 'batchFresh({ size: 2 }) → pullEvery(5)',
    context: () => ({ monitor: batchMonitor() }),
    operator:
      ({ scheduler, context }) =>
      (source$) =>
        source$.pipe(batchFresh<string>({ size: 2, monitor: context.monitor }), pullEvery(5, scheduler)),
    expected: {
      marbles: '-x---#',
      values: { x: ['a', 'b'] },
      error: new OverflowError('batchFresh', 1, 'error', 'batches', { option: 'maxPending' }),
    },
    subscriptions: { source: '^----!' },
    verify: ({ context, expect }) => {
      expect(context.monitor.snapshot()).toMatchObject({ emitted: 1, discarded: 2, valuesLost: 4, dropped: 0 });
    },
  }),

  defineCase({
    id: 'batchFresh-error-discard',
    title:
      'batchFresh on a source error: by default the partial batch is discarded (and counted) and the error passes at once',
    source: { marbles: 'abcde#' },
    operatorLabel: 'batchFresh({ size: 3 })',
    context: () => ({ monitor: batchMonitor() }),
    operator: ({ context }) => batchFresh<string>({ size: 3, monitor: context.monitor }),
    expected: { marbles: '--x--#', values: { x: ['a', 'b', 'c'] } },
    subscriptions: { source: '^----!' },
    verify: ({ context, expect }) => {
      expect(context.monitor.snapshot()).toMatchObject({ emitted: 1, discarded: 1, valuesLost: 2 });
    },
  }),

  defineCase({
    id: 'batchFresh-error-flush',
    title: "batchFresh with onError: 'flush': the partial batch is emitted, then the error",
    source: { marbles: 'abcde#' },
    operatorLabel: "batchFresh({ size: 3, onError: 'flush' })",
    operator: () => batchFresh<string>({ size: 3, onError: 'flush' }),
    expected: { marbles: '--x--(y#)', values: { x: ['a', 'b', 'c'], y: ['d', 'e'] } },
    subscriptions: { source: '^----!' },
  }),

  defineCase({
    id: 'batchFresh-unsubscribe',
    title:
      'batchFresh: unsubscribing cancels the pending timer, discards the partial batch and unsubscribes the source',
    description: 'c starts a batch at 6 whose timer would fire at 10; the test unsubscribes at 8.',
    source: { marbles: 'x-^ab---c---d|', kind: 'hot' },
    operatorLabel: 'batchFresh({ size: 3, maxWait: 4 })',
    context: () => ({ monitor: batchMonitor() }),
    operator: ({ scheduler, context }) =>
      batchFresh<string>({ size: 3, maxWait: 4, scheduler, monitor: context.monitor }),
    unsubscribe: '--------!',
    expected: { marbles: '-----x--', values: { x: ['a', 'b'] } },
    subscriptions: { source: '^-------!' },
    verify: ({ context, expect, scheduler }) => {
      expect(context.monitor.snapshot()).toMatchObject({ emitted: 1, discarded: 1, valuesLost: 1, current: 0 });
      expect(scheduler.actions).toEqual([]);
    },
  }),

  defineCase({
    id: 'batchFresh-take',
    title: 'batchFresh then take(2): the second batch ends the subscription and unsubscribes the source',
    source: { marbles: 'abcdefg|' },
    operatorLabel: 'batchFresh({ size: 2 }) → take(2)',
    pipeline: (source$) => source$.pipe(batchFresh<string>({ size: 2 }), take(2)),
    expected: { marbles: '-x-(y|)', values: { x: ['a', 'b'], y: ['c', 'd'] } },
    subscriptions: { source: '^--!' },
  }),

  defineCase({
    id: 'batchFresh-pull-demand',
    title: 'batchFresh over a pull source: it asks for a batch worth of values only when its consumer asks for a batch',
    description:
      'No boundedBuffer is needed: the source can be paused, so values wait in it while pullEvery(8) is busy.',
    source: { kind: 'pull', marbles: 'a--bc-d-ef---|' },
    operatorLabel: 'batchFresh({ size: 3, maxWait: 2 }) → pullEvery(8)',
    operator:
      ({ scheduler }) =>
      (source$) =>
        source$.pipe(batchFresh<string>({ size: 3, maxWait: 2, scheduler }), pullEvery(8, scheduler)),
    expected: {
      marbles: '--x-------y-------z-------(w|)',
      values: { x: ['a'], y: ['b', 'c'], z: ['d'], w: ['e', 'f'] },
    },
    // Three for the first batch; after [a] leaves, one to keep three outstanding; then nothing
    // until the consumer is free and [d] has gone out, at 18.
    demand: '3-1---------------3',
    subscriptions: { source: '^-----------------!' },
    diagram: { frameWidth: 30 },
  }),
  defineCase({
    id: 'batchFresh-weight',
    title: 'batchFresh by weight: a batch closes before the value that would take it past maxWeight',
    description:
      'Each value weighs its length. [ab, cde] reach 5 exactly and close at once; f and gh would take a batch ' +
      'to 3, then ijkl does not fit and closes it; a value heavier than maxWeight would go alone.',
    source: { marbles: 'abcde|', values: { a: 'ab', b: 'cde', c: 'f', d: 'gh', e: 'ijkl' } },
    operatorLabel: 'batchFresh({ weight: s => s.length, maxWeight: 5 })',
    operator: () => batchFresh<string>({ weight: (s) => s.length, maxWeight: 5 }),
    expected: { marbles: '-x--y(z|)', values: { x: ['ab', 'cde'], y: ['f', 'gh'], z: ['ijkl'] } },
    subscriptions: { source: '^----!' },
  }),
]);
