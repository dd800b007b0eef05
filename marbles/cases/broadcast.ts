import { Observable, concat, ignoreElements, map, merge, take, timer, type MonoTypeOperatorFunction } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { LagError, broadcast, broadcastMonitor, type BroadcastStats } from '../../operators/broadcast.js';
import type { Monitor } from '../../lib/core/monitor.js';
import { defineCase, defineCases } from '../case.js';
import { pullEvery, upper } from '../testing.js';

/*
 * Two subscribers share one source through broadcast. Where both are drawn in the output row,
 * the second one's values are upper-cased (merged with the first's); where they would crowd one
 * row, the output row is one subscriber and the other one's values, with their frames, are
 * checked in `verify` (and said in the description). pullEvery(n) is a subscriber that asks for
 * one value, then is busy for n frames. Marble sources are plain Observables, so they reach the
 * broadcast through its bounded push-source queue; what the source is asked for shows there.
 */

interface Side {
  readonly monitor: Monitor<BroadcastStats>;
  /** What the subscriber not drawn in the output row received, as `frame:value`, `frame:|` or `frame:#`. */
  readonly other: string[];
}

function sideContext(): Side {
  return { monitor: broadcastMonitor(), other: [] };
}

/**
 * Subscribes `other` to `shared` first, then the drawn subscriber. `other` outlives the drawn one
 * (a laggard that fails or is detached must not take the other subscriber with it), so it is
 * released only by its own end: every case using this helper ends its source.
 */
function withOther<T>(
  shared: Observable<T>,
  other: MonoTypeOperatorFunction<T>,
  drawn: MonoTypeOperatorFunction<T>,
  scheduler: TestScheduler,
  log: string[],
): Observable<T> {
  return new Observable<T>((subscriber) => {
    const note = (what: string): void => void log.push(`${scheduler.now()}:${what}`);
    shared.pipe(other).subscribe({
      next: (v) => note(String(v)),
      error: (err: unknown) => note(err instanceof LagError ? '#lag' : '#'),
      complete: () => note('|'),
    });
    return shared.pipe(drawn).subscribe(subscriber);
  });
}

export const broadcastCases = defineCases('broadcast', [
  defineCase({
    id: 'broadcast-slowest-sets-pace',
    title: 'broadcast: every subscriber gets every value, and the source is read as fast as the slowest asks',
    description:
      'The lower-case subscriber asks again one frame after each value, the upper-case one five frames after: ' +
      'both get each value at the slower pace, and the source is asked for nothing more in between.',
    source: { marbles: 'abcd|' },
    operatorLabel: 'broadcast({ connectAt: 2 }) → pullEvery(1) and pullEvery(5) → upper, merged',
    context: () => ({ monitor: broadcastMonitor() }),
    pipeline: (source$, { scheduler, context }) => {
      const shared = source$.pipe(broadcast<string>({ connectAt: 2, monitor: context.monitor }));
      return merge(shared.pipe(pullEvery(1, scheduler)), shared.pipe(pullEvery(5, scheduler), map(upper)));
    },
    expected: { marbles: '(aA)-(bB)-(cC)-(dD|)' },
    subscriptions: { source: '^---!' },
    verify: ({ context, expect }) => {
      expect(context.monitor.snapshot()).toMatchObject({
        received: 4,
        offered: 8,
        emitted: 8,
        dropped: 0,
        discarded: 0,
        held: 0,
        connections: 1,
      });
    },
  }),

  defineCase({
    id: 'broadcast-leave-releases-pace',
    title: 'broadcast: a subscriber that leaves releases its share of the pace at once',
    description:
      'The upper-case subscriber (pullEvery(8), take(2)) sets the pace until it leaves at 8; from then on the ' +
      'lower-case one (pullEvery(4)) is alone and is served at its own pace.',
    source: { marbles: 'abcdef|' },
    operatorLabel: 'broadcast({ connectAt: 2 }) → pullEvery(4) and pullEvery(8) → take(2) → upper, merged',
    pipeline: (source$, { scheduler }) => {
      const shared = source$.pipe(broadcast<string>({ connectAt: 2 }));
      return merge(shared.pipe(pullEvery(4, scheduler)), shared.pipe(pullEvery(8, scheduler), take(2), map(upper)));
    },
    expected: { marbles: '(aA)----(bB)c---d---e---(f|)' },
    diagram: { frameWidth: 24 },
  }),

  defineCase({
    id: 'broadcast-connect-at',
    title: 'broadcast connectAt: the source is subscribed only when that many subscribers are present',
    description:
      'The first subscriber joins at 0 and waits; the second joins at 3, which connects the source, and both ' +
      'get every value from its start.',
    source: { marbles: 'a----(b|)' },
    operatorLabel: 'broadcast({ connectAt: 2 }); a plain subscriber at 0, a second (upper-cased) at 3',
    pipeline: (source$) => {
      const shared = source$.pipe(broadcast<string>({ connectAt: 2 }));
      return merge(shared, concat(timer(3).pipe(ignoreElements()), shared.pipe(map(upper))));
    },
    expected: { marbles: '---(aA)-(bB|)' },
    subscriptions: { source: '---^----!' },
  }),

  defineCase({
    id: 'broadcast-late-subscriber',
    title: 'broadcast: a late subscriber gets the values that arrive after it joined, nothing is replayed',
    source: { marbles: 'a--b--c--d--|' },
    operatorLabel: 'broadcast() → a plain subscriber at 0 (not drawn), this one from 4',
    context: sideContext,
    pipeline: (source$, { scheduler, context }) => {
      const shared = source$.pipe(broadcast<string>({ monitor: context.monitor }));
      return withOther(
        shared,
        (s) => s,
        (s) => concat(timer(4).pipe(ignoreElements()), s),
        scheduler,
        context.other,
      );
    },
    expected: { marbles: '------c--d--|' },
    subscriptions: { source: '^-----------!' },
    verify: ({ context, expect }) => {
      expect(context.other).toEqual(['0:a', '3:b', '6:c', '9:d', '12:|']);
      expect(context.monitor.snapshot()).toMatchObject({ received: 4, offered: 6, emitted: 6 });
    },
  }),

  defineCase({
    id: 'broadcast-max-lag-drop',
    title: "broadcast maxLag with 'drop': the fastest sets the pace, a laggard keeps maxLag values and misses the rest",
    description:
      'A plain subscriber (not drawn) takes every value as it comes. The drawn one (pullEvery(7)) holds b while ' +
      'busy with a, misses c and d, holds e while busy with b, misses f, then gets e and completes.',
    source: { marbles: 'a-b-c-d-e-f-|' },
    operatorLabel: "broadcast({ maxLag: 1, onLag: 'drop' }) → pullEvery(7) (a plain subscriber not drawn)",
    context: () => ({ ...sideContext(), dropped: [] as string[] }),
    pipeline: (source$, { scheduler, context }) => {
      const shared = source$.pipe(
        broadcast<string>({
          maxLag: 1,
          onLag: 'drop',
          onDrop: (v) => context.dropped.push(v),
          monitor: context.monitor,
        }),
      );
      return withOther(shared, (s) => s, pullEvery(7, scheduler), scheduler, context.other);
    },
    expected: { marbles: 'a------b------(e|)' },
    verify: ({ context, expect }) => {
      expect(context.other).toEqual(['0:a', '2:b', '4:c', '6:d', '8:e', '10:f', '12:|']);
      expect(context.dropped).toEqual(['c', 'd', 'f']);
      expect(context.monitor.snapshot()).toMatchObject({
        received: 6,
        offered: 12,
        emitted: 9,
        dropped: 3,
        discarded: 0,
        held: 0,
      });
    },
    diagram: { frameWidth: 24 },
  }),

  defineCase({
    id: 'broadcast-max-lag-error',
    title: "broadcast maxLag with 'error': a subscriber that falls one value too far behind fails with a LagError",
    description: 'The drawn subscriber holds b, then c would make it two behind: it fails; the plain one goes on.',
    source: { marbles: 'a-b-c-d-|' },
    operatorLabel: "broadcast({ maxLag: 1, onLag: 'error' }) → pullEvery(7) (a plain subscriber not drawn)",
    context: sideContext,
    pipeline: (source$, { scheduler, context }) => {
      const shared = source$.pipe(broadcast<string>({ maxLag: 1, onLag: 'error', monitor: context.monitor }));
      return withOther(shared, (s) => s, pullEvery(7, scheduler), scheduler, context.other);
    },
    expected: { marbles: 'a---#', error: new LagError('broadcast', 1) },
    verify: ({ context, expect }) => {
      expect(context.other).toEqual(['0:a', '2:b', '4:c', '6:d', '8:|']);
      // b (held) and c (the one that did not fit) are discarded for the laggard, and counted.
      expect(context.monitor.snapshot()).toMatchObject({ offered: 7, emitted: 5, discarded: 2, laggards: 1 });
    },
  }),

  defineCase({
    id: 'broadcast-max-lag-detach',
    title: "broadcast maxLag with 'detach': a laggard gets no new values, receives the ones it holds, then completes",
    source: { marbles: 'a-b-c-d-|' },
    operatorLabel: "broadcast({ maxLag: 1, onLag: 'detach' }) → pullEvery(7) (a plain subscriber not drawn)",
    context: sideContext,
    pipeline: (source$, { scheduler, context }) => {
      const shared = source$.pipe(broadcast<string>({ maxLag: 1, onLag: 'detach', monitor: context.monitor }));
      return withOther(shared, (s) => s, pullEvery(7, scheduler), scheduler, context.other);
    },
    expected: { marbles: 'a------(b|)' },
    verify: ({ context, expect }) => {
      expect(context.other).toEqual(['0:a', '2:b', '4:c', '6:d', '8:|']);
      expect(context.monitor.snapshot()).toMatchObject({ offered: 7, emitted: 6, discarded: 1, laggards: 1 });
    },
  }),

  defineCase({
    id: 'broadcast-unsubscribe',
    title: 'broadcast: when the last subscriber leaves, the source is released (refCount)',
    source: { marbles: 'abcdef|' },
    operatorLabel: 'broadcast({ connectAt: 2 }) → pullEvery(2) and pullEvery(3) → upper, merged; unsubscribed at 2',
    pipeline: (source$, { scheduler }) => {
      const shared = source$.pipe(broadcast<string>({ connectAt: 2 }));
      return merge(shared.pipe(pullEvery(2, scheduler)), shared.pipe(pullEvery(3, scheduler), map(upper)));
    },
    unsubscribe: '--!',
    expected: { marbles: '(aA)' },
    subscriptions: { source: '^-!' },
  }),

  defineCase({
    id: 'broadcast-error',
    title: 'broadcast: a source error reaches every subscriber at once',
    source: { marbles: 'a----b----#' },
    operatorLabel: 'broadcast({ connectAt: 2 }) → two plain subscribers, the second upper-cased, merged',
    pipeline: (source$) => {
      const shared = source$.pipe(broadcast<string>({ connectAt: 2 }));
      return merge(shared, shared.pipe(map(upper)));
    },
    expected: { marbles: '(aA)-(bB)-#' },
    subscriptions: { source: '^---------!' },
  }),
]);
