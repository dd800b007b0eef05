import { Observable, type SchedulerLike } from 'rxjs';
import { toAsyncIterable } from '../../operators/toAsyncIterable.js';
import { defineCase, defineCases } from '../case.js';
import { tapDemand } from '../testing.js';

/*
 * A `for await` loop lives outside virtual time: its promises settle in microtasks, after the
 * TestScheduler has flushed. What happens in virtual time is the demand: each `next()` of the
 * loop asks the source for one value at once, and the value reaches the loop in the frame it is
 * delivered. So these cases call `next()` at given frames (the loop's rhythm), and the output row
 * is what toAsyncIterable received from its source, and when (a handshake-preserving tap).
 */

/** Calls `next()` on toAsyncIterable(source$) at each frame of `calls`; emits what it receives. */
function loopCalling(
  source$: Observable<string>,
  calls: readonly number[],
  scheduler: SchedulerLike,
): Observable<string> {
  return new Observable<string>((subscriber) => {
    const loop = toAsyncIterable(tapDemand(source$, subscriber));
    const timers = calls.map((frame) => scheduler.schedule(() => void loop.next(), frame));
    return () => {
      for (const t of timers) t.unsubscribe();
      void loop.return?.();
    };
  });
}

export const toAsyncIterableCases = defineCases('toAsyncIterable', [
  defineCase({
    id: 'toAsyncIterable-demand',
    title: 'toAsyncIterable: each next() of the for-await loop asks the source for one value; nothing is read ahead',
    description:
      'The loop calls next() at 0, 4, 5 and 9. Each call is one request(1): a and b are taken when asked for, ' +
      'the call at 5 waits for c, which is handed over the frame it becomes available; the end of the source ' +
      'needs no request.',
    source: { kind: 'pull', marbles: 'ab----c-|' },
    operatorLabel: 'toAsyncIterable(source), the loop calling next() at frames 0, 4, 5, 9',
    pipeline: (source$: Observable<string>, { scheduler }) => loopCalling(source$, [0, 4, 5, 9], scheduler),
    expected: { marbles: 'a---b-c-|' },
    demand: '1---11',
    subscriptions: { source: '^-------!' },
    diagram: { outputTitle: 'loop gets', demandTitle: 'request(n)' },
  }),
]);
