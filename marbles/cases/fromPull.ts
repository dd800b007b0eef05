import { Observable, take, type SchedulerLike } from 'rxjs';
import { demandProtocolOf } from '../../lib/core/protocol.js';
import { fromPull } from '../../operators/fromPull.js';
import { defineCase, defineCases } from '../case.js';
import { pullEvery } from '../testing.js';

/*
 * fromPull has no source stream of its own: what drives it is demand. In the first cases the
 * source row is therefore the consumer's requests: each value n on it is `request(n)`, made
 * through the demand handshake, and the output row is what fromPull emits in answer.
 */

/** Subscribes to `source` through the handshake and calls `request(n)` for each n of `requests$`. */
function requestedBy<T>(source: Observable<T>, requests$: Observable<number>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const protocol = demandProtocolOf(source);
    if (protocol === undefined) throw new TypeError('requestedBy: the source is not demand-aware');
    const handle = protocol.subscribe({
      next: (value) => subscriber.next(value),
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
    const requests = requests$.subscribe((n) => handle.request(n));
    return () => {
      requests.unsubscribe();
      handle.cancel();
    };
  });
}

const requests = { '1': 1, '2': 2 } as const;

/**
 * An endless generator of letters that records how far it was read, at which frames, and
 * whether it was closed.
 */
function letters(scheduler: SchedulerLike): {
  iterable: Iterable<string>;
  pulled: number;
  pulledAt: number[];
  closed: boolean;
} {
  const state = {
    pulled: 0,
    pulledAt: [] as number[],
    closed: false,
    iterable: {
      *[Symbol.iterator]() {
        try {
          for (;;) {
            state.pulledAt.push(scheduler.now());
            yield String.fromCharCode(97 + (state.pulled++ % 26));
          }
        } finally {
          state.closed = true;
        }
      },
    },
  };
  return state;
}

export const fromPullCases = defineCases('fromPull', [
  defineCase({
    id: 'fromPull-request',
    title: 'fromPull: the iterable is read only when asked; the request after the last value finds the end',
    description:
      "request(1) at frame 1 reads a; request(2) at frame 4 reads b and c at once; the iterator's end " +
      'is only discovered by the next request, at frame 10, which completes the output.',
    source: { marbles: '-1--2-----1', values: requests },
    operatorLabel: "fromPull(['a', 'b', 'c']), request(n) for each n on the source",
    context: () => {
      let nexts = 0;
      const array = ['a', 'b', 'c'];
      const iterable: Iterable<string> = {
        [Symbol.iterator]: () => {
          const it = array[Symbol.iterator]();
          return {
            next: () => {
              nexts++;
              return it.next();
            },
          };
        },
      };
      return { iterable, nexts: () => nexts };
    },
    pipeline: (requests$, { context }) => requestedBy(fromPull(context.iterable), requests$),
    expected: { marbles: '-a--(bc)--|' },
    subscriptions: { source: '^---------!' },
    diagram: { sourceTitle: 'request(n)' },
    verify: ({ context, expect }) => {
      expect(context.nexts()).toBe(4); // one per value asked for, and one that saw done
    },
  }),

  defineCase({
    id: 'fromPull-unsubscribe',
    title: "fromPull: unsubscribing calls the iterator's return(), so an endless generator's finally runs",
    description: 'Three requests read three letters; the unsubscribe at frame 5 closes the generator.',
    source: { marbles: '1-1-1-1-1-1', values: requests },
    operatorLabel: 'fromPull(endless generator), request(n) for each n on the source',
    context: ({ scheduler }) => letters(scheduler),
    pipeline: (requests$, { context }) => requestedBy(fromPull(context.iterable), requests$),
    unsubscribe: '-----!',
    expected: { marbles: 'a-b-c-' },
    subscriptions: { source: '^----!' },
    diagram: { sourceTitle: 'request(n)' },
    verify: ({ context, expect }) => {
      expect(context.pulled).toBe(3);
      expect(context.closed).toBe(true);
    },
  }),

  defineCase({
    id: 'fromPull-error',
    title: "fromPull: what the iterator throws becomes the stream's error, at the request that met it",
    source: { marbles: '1-1-1-1', values: requests },
    operatorLabel: "fromPull(generator yielding 'a', 'b', then throwing), request(n) for each n",
    pipeline: (requests$) =>
      requestedBy(
        fromPull(
          (function* () {
            yield 'a';
            yield 'b';
            throw new Error('disk on fire');
          })(),
        ),
        requests$,
      ),
    expected: { marbles: 'a-b-#', error: new Error('disk on fire') },
    subscriptions: { source: '^---!' },
    diagram: { sourceTitle: 'request(n)' },
  }),

  defineCase({
    id: 'fromPull-slow-consumer',
    title: 'fromPull: a slow consumer paces the reading; nothing is read ahead, and the take(3) closes the generator',
    description:
      'pullEvery(3) asks for one letter, works three frames, asks again; take(3) ends the output after c. ' +
      'The source row is the rhythm of those pulls.',
    source: { marbles: '1--1--1', values: requests },
    operatorLabel: 'fromPull(endless generator) → pullEvery(3) → take(3)',
    context: ({ scheduler }) => letters(scheduler),
    // pullEvery makes the pulls itself; the source row draws when they happen, and verify checks it.
    pipeline: (_pulls$, { context, scheduler }) => fromPull(context.iterable).pipe(pullEvery(3, scheduler), take(3)),
    expected: { marbles: 'a--b--(c|)' },
    diagram: { sourceTitle: 'pull' },
    verify: ({ context, expect }) => {
      expect(context.pulledAt).toEqual([0, 3, 6]);
      expect(context.closed).toBe(true);
    },
  }),

  defineCase({
    id: 'fromPull-demand',
    title: 'fromPull: each request of a slow consumer reads one value, and nothing is read ahead',
    description:
      'The top row is the iterable. The demand lane shows the requests pullEvery(3) makes of fromPull: ' +
      'one value is read per request; reading c also finds the end of the array, so the output completes with it.',
    source: { marbles: '(abc)' },
    operatorLabel: "fromPull(['a', 'b', 'c']) → pullEvery(3)",
    pipeline: (_iterable$, { scheduler, observeDemand }) =>
      observeDemand(fromPull(['a', 'b', 'c'])).pipe(pullEvery(3, scheduler)),
    expected: { marbles: 'a--b--(c|)' },
    demand: '1--1--1',
    diagram: { sourceTitle: 'iterable', demandTitle: 'request(n)' },
  }),
]);
