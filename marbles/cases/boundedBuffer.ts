import { OverflowError } from '../../lib/core/errors.js';
import { boundedBuffer, bufferMonitor } from '../../operators/boundedBuffer.js';
import { notPausableError } from '../../lib/queue/bounded-queue.js';
import { defineCase, defineCases } from '../case.js';
import { pullEvery } from '../testing.js';

/*
 * The slow consumer in these cases is pullEvery(5): it asks for one value, then spends five
 * frames on each value before asking for the next. The source bursts five values in five frames,
 * so the queue (capacity 2) fills while the consumer is busy with `a`.
 */

const burst = { marbles: 'abcde---|' } as const;

export const boundedBufferCases = defineCases('boundedBuffer', [
  defineCase({
    id: 'boundedBuffer-passthrough',
    title: 'boundedBuffer: a plain subscriber asks for everything, so values pass straight through',
    description: 'Without a demand-aware consumer nothing waits in the queue and no policy applies.',
    source: burst,
    operatorLabel: "boundedBuffer({ capacity: 2, overflow: 'drop-oldest' })",
    operator: () => boundedBuffer({ capacity: 2, overflow: 'drop-oldest' }),
    expected: { marbles: 'abcde---|' },
    subscriptions: { source: '^-------!' },
  }),

  defineCase({
    id: 'boundedBuffer-drop-oldest',
    title: 'boundedBuffer drop-oldest: a full queue evicts its head, the consumer gets the newest values',
    description: 'b and c are evicted by d and e; completion waits until the queue has drained.',
    source: burst,
    operatorLabel: "boundedBuffer({ capacity: 2, overflow: 'drop-oldest' }) → pullEvery(5)",
    context: () => ({ monitor: bufferMonitor() }),
    operator:
      ({ scheduler, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer({ capacity: 2, overflow: 'drop-oldest', monitor: context.monitor }),
          pullEvery(5, scheduler),
        ),
    expected: { marbles: 'a----d----(e|)' },
    subscriptions: { source: '^-------!' },
    verify: ({ context, expect }) => {
      expect(context.monitor.snapshot()).toEqual({
        received: 5,
        emitted: 3,
        dropped: 2,
        discarded: 0,
        depth: 0,
        highWater: 2,
      });
    },
  }),

  defineCase({
    id: 'boundedBuffer-drop-newest',
    title: 'boundedBuffer drop-newest: a full queue refuses arrivals, the consumer gets the oldest values',
    description: 'd and e arrive while b and c fill the queue and are dropped.',
    source: burst,
    operatorLabel: "boundedBuffer({ capacity: 2, overflow: 'drop-newest' }) → pullEvery(5)",
    context: () => ({ dropped: [] as string[] }),
    operator:
      ({ scheduler, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer<string>({
            capacity: 2,
            overflow: 'drop-newest',
            onDrop: (value) => context.dropped.push(value),
          }),
          pullEvery(5, scheduler),
        ),
    expected: { marbles: 'a----b----(c|)' },
    subscriptions: { source: '^-------!' },
    verify: ({ context, expect }) => {
      expect(context.dropped).toEqual(['d', 'e']);
    },
  }),

  defineCase({
    id: 'boundedBuffer-error',
    title: 'boundedBuffer error: the first value that does not fit fails the stream with an OverflowError',
    description: 'd finds the queue full; the stream errors at once and b, c are discarded.',
    source: burst,
    operatorLabel: "boundedBuffer({ capacity: 2, overflow: 'error' }) → pullEvery(5)",
    context: () => ({ monitor: bufferMonitor() }),
    operator:
      ({ scheduler, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer({ capacity: 2, overflow: 'error', monitor: context.monitor }),
          pullEvery(5, scheduler),
        ),
    expected: { marbles: 'a--#', error: new OverflowError('boundedBuffer', 2, 'error') },
    subscriptions: { source: '^--!' },
    verify: ({ context, expect }) => {
      expect(context.monitor.snapshot()).toEqual({
        received: 4,
        emitted: 1,
        dropped: 0,
        discarded: 3,
        depth: 0,
        highWater: 2,
      });
    },
  }),

  defineCase({
    id: 'boundedBuffer-error-delayed',
    title: 'boundedBuffer error with delayError: the values already queued are delivered before the OverflowError',
    source: burst,
    operatorLabel: "boundedBuffer({ capacity: 2, overflow: 'error', delayError: true }) → pullEvery(5)",
    operator:
      ({ scheduler }) =>
      (source$) =>
        source$.pipe(boundedBuffer({ capacity: 2, overflow: 'error', delayError: true }), pullEvery(5, scheduler)),
    expected: { marbles: 'a----b----(c#)', error: new OverflowError('boundedBuffer', 2, 'error') },
    subscriptions: { source: '^--!' },
  }),

  defineCase({
    id: 'boundedBuffer-unsubscribe',
    title: 'boundedBuffer: unsubscribing discards the queued values, counts them, and unsubscribes the source',
    description:
      'A hot source: x is emitted before the subscription and never seen (`^` itself takes frame 0). c is still queued when the test unsubscribes at frame 8.',
    source: { marbles: 'x-^abcde---|', kind: 'hot' },
    operatorLabel: "boundedBuffer({ capacity: 2, overflow: 'drop-newest' }) → pullEvery(5)",
    context: () => ({ monitor: bufferMonitor() }),
    operator:
      ({ scheduler, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer({ capacity: 2, overflow: 'drop-newest', monitor: context.monitor }),
          pullEvery(5, scheduler),
        ),
    unsubscribe: '--------!',
    expected: { marbles: '-a----b-' },
    subscriptions: { source: '^-------!' },
    verify: ({ context, expect }) => {
      expect(context.monitor.snapshot()).toEqual({
        received: 5,
        emitted: 2,
        dropped: 2,
        discarded: 1,
        depth: 0,
        highWater: 2,
      });
    },
  }),

  defineCase({
    id: 'boundedBuffer-block',
    title: 'boundedBuffer block: a pausable upstream is asked only for free slots, so nothing is dropped',
    description:
      'The first stage absorbs the plain source; the block stage asks it for at most 2 values beyond what ' +
      'the consumer took, so d and e wait upstream instead of overflowing.',
    source: burst,
    operatorLabel:
      "boundedBuffer({ capacity: 10, overflow: 'drop-newest' }) → boundedBuffer({ capacity: 2, overflow: 'block' }) → pullEvery(5)",
    context: () => ({ upstream: bufferMonitor(), blocking: bufferMonitor() }),
    operator:
      ({ scheduler, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer({ capacity: 10, overflow: 'drop-newest', monitor: context.upstream }),
          boundedBuffer({ capacity: 2, overflow: 'block', monitor: context.blocking }),
          pullEvery(5, scheduler),
        ),
    expected: { marbles: 'a----b----c----d----(e|)' },
    subscriptions: { source: '^-------!' },
    verify: ({ context, expect }) => {
      const done = { received: 5, emitted: 5, dropped: 0, discarded: 0, depth: 0 };
      expect(context.upstream.snapshot()).toMatchObject({ ...done, highWater: 2 });
      expect(context.blocking.snapshot()).toMatchObject({ ...done, highWater: 2 });
    },
  }),

  defineCase({
    id: 'boundedBuffer-block-plain-source',
    title: 'boundedBuffer block over a plain Observable fails on subscribe with a TypeError that names the fix',
    source: burst,
    operatorLabel: "boundedBuffer({ capacity: 2, overflow: 'block' })",
    operator: () => boundedBuffer({ capacity: 2, overflow: 'block' }),
    expected: { marbles: '#', error: notPausableError('boundedBuffer') },
    subscriptions: { source: [] },
  }),

  defineCase({
    id: 'boundedBuffer-block-demand',
    title: 'boundedBuffer block over a pull source: it asks only for free slots, as the slow consumer takes values',
    description:
      'All five values are available at once. The buffer asks for its two slots, and for one more each ' +
      'time pullEvery(5) takes a value: d and e stay in the source until there is room.',
    source: { kind: 'pull', marbles: 'abcde---|' },
    operatorLabel: "boundedBuffer({ capacity: 2, overflow: 'block' }) → pullEvery(5)",
    context: () => bufferMonitor(),
    operator:
      ({ scheduler, context }) =>
      (source$) =>
        source$.pipe(boundedBuffer({ capacity: 2, overflow: 'block', monitor: context }), pullEvery(5, scheduler)),
    expected: { marbles: 'a----b----c----d----(e|)' },
    // request(2) fills the slots; pullEvery takes a at once, so one more is asked for in the same frame.
    demand: '(21)-1----1',
    subscriptions: { source: '^---------!' },
    verify: ({ context, expect }) => {
      expect(context.snapshot()).toMatchObject({ received: 5, emitted: 5, dropped: 0, depth: 0, highWater: 2 });
    },
  }),
]);
