import { boundedBuffer, bufferMonitor } from '../../operators/boundedBuffer.js';
import { paceDemand } from '../../operators/paceDemand.js';
import { defineCase, defineCases } from '../case.js';

/*
 * The screen in these cases draws a frame every 3 frames of virtual time (`period: 3`), slower
 * than the source, which emits one event per frame. Ticks scheduled during a frame run after the
 * source's emission of the frame they land on (the source's emissions were scheduled first).
 */

const feed = { marbles: 'abcdefgh|' } as const;

export const paceDemandCases = defineCases('paceDemand', [
  defineCase({
    id: 'paceDemand-drop-oldest',
    title: 'paceDemand: the screen asks for one value per frame, so boundedBuffer(drop-oldest) upstream really drops',
    description:
      'Without paceDemand the plain subscriber asks for everything and nothing is dropped (boundedBuffer-passthrough). ' +
      'With it, a is shown at once, then one value per frame: the newest that the queue (capacity 2) kept.',
    source: feed,
    operatorLabel: "boundedBuffer({ capacity: 2, overflow: 'drop-oldest' }) → paceDemand({ period: 3 })",
    context: () => ({ monitor: bufferMonitor() }),
    operator:
      ({ scheduler, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer({ capacity: 2, overflow: 'drop-oldest', monitor: context.monitor }),
          paceDemand({ scheduler, period: 3 }),
        ),
    expected: { marbles: 'a--c--f--g--(h|)' },
    subscriptions: { source: '^-------!' },
    verify: ({ context, expect }) => {
      // received = emitted + dropped + discarded + depth
      expect(context.monitor.snapshot()).toEqual({
        received: 8,
        emitted: 5,
        dropped: 3,
        discarded: 0,
        depth: 0,
        highWater: 2,
      });
    },
  }),

  defineCase({
    id: 'paceDemand-count',
    title: 'paceDemand: count values per frame; credit does not pile up while the source is idle',
    description:
      'Two values per tick (a frame every 5). f, long after the burst, is shown alone: no credit accumulated.',
    source: { marbles: '(abcde)------f---|' },
    operatorLabel: "boundedBuffer({ capacity: 8, overflow: 'drop-oldest' }) → paceDemand({ count: 2, period: 5 })",
    operator:
      ({ scheduler }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer({ capacity: 8, overflow: 'drop-oldest' }),
          paceDemand({ count: 2, scheduler, period: 5 }),
        ),
    expected: { marbles: '(ab)-(cd)-e--f---|' },
    subscriptions: { source: '^----------------!' },
  }),

  defineCase({
    id: 'paceDemand-error',
    title: 'paceDemand: an error from upstream is passed on at once',
    source: { marbles: 'ab#' },
    operatorLabel: "boundedBuffer({ capacity: 4, overflow: 'drop-oldest' }) → paceDemand({ period: 3 })",
    operator:
      ({ scheduler }) =>
      (source$) =>
        source$.pipe(boundedBuffer({ capacity: 4, overflow: 'drop-oldest' }), paceDemand({ scheduler, period: 3 })),
    expected: { marbles: 'a-#' },
    subscriptions: { source: '^-!' },
    diagram: false,
  }),

  defineCase({
    id: 'paceDemand-unsubscribe',
    title: 'paceDemand: unsubscribing cancels the pending tick and unsubscribes the source through the buffer',
    source: feed,
    operatorLabel: "boundedBuffer({ capacity: 2, overflow: 'drop-oldest' }) → paceDemand({ period: 3 })",
    operator:
      ({ scheduler }) =>
      (source$) =>
        source$.pipe(boundedBuffer({ capacity: 2, overflow: 'drop-oldest' }), paceDemand({ scheduler, period: 3 })),
    unsubscribe: '----!',
    expected: { marbles: 'a--c-' },
    subscriptions: { source: '^---!' },
    diagram: false,
  }),
]);
