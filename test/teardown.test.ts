/**
 * Teardown, operator by operator: on completion, on error and on an early unsubscribe, the
 * source and every inner are unsubscribed at the frame the stream ends, and no timer is left on
 * the scheduler afterwards. One table, so that a new operator (or a new way to end) gets every
 * cell; a cell that leaked would show a subscription still open, or an action still scheduled.
 */
import { describe, expect, it } from 'vitest';
import { map, timer, type Observable, type OperatorFunction } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { batchFresh, boundedBuffer, drainOnComplete, mergeWorkers, orderedMerge } from '../index.js';
import { marbles } from './helpers.js';

type Inner = (v: string) => Observable<string>;

interface Stage {
  name: string;
  /** Builds the operator; `inner` is the worker for pools. */
  make: (scheduler: TestScheduler, inner: Inner) => OperatorFunction<string, unknown>;
  /** Retries failed work: then b's worker fails once, so a backoff timer is pending at the end. */
  retries?: boolean;
  /** When the stage lets go of its source before the stream ends, the source's subscription. */
  sourceReleased?: string;
  /** Each worker's inner, when not the default `--x|`. */
  work?: string;
}

const STAGES: Stage[] = [
  { name: 'boundedBuffer', make: () => boundedBuffer<string>({ capacity: 4, overflow: 'error' }) },
  {
    name: 'mergeWorkers (with a retry backoff on the scheduler)',
    make: (scheduler, inner) =>
      mergeWorkers(inner, { concurrency: 2, retry: { count: 2, delay: 7, jitter: 0 }, scheduler }),
    retries: true,
  },
  { name: 'orderedMerge', make: (_scheduler, inner) => orderedMerge(inner, { concurrency: 2 }) },
  { name: 'batchFresh (size and maxWait timer)', make: (scheduler) => batchFresh({ size: 3, maxWait: 5, scheduler }) },
  {
    name: 'drainOnComplete (stop at frame 1, then the deadline timer)',
    make: (scheduler, inner) =>
      drainOnComplete(mergeWorkers(inner, { concurrency: 2 }), { stop: timer(1, scheduler), deadline: 9, scheduler }),
    // The stop closes the intake, and with it the source, at frame 1 however the stream ends;
    // a's work lasts until frame 6, so the early unsubscribe (frame 4) comes mid-drain.
    sourceReleased: '^!',
    work: '------x|',
  },
];

interface Ending {
  name: string;
  source: string;
  /** When the subscriber leaves (an early unsubscribe), in frames. */
  unsubscribeAt?: number;
  /** The source's subscription: subscribed at 0, released at the frame the stream ends. */
  expected: string;
}

const ENDINGS: Ending[] = [
  // Completion waits for the inners (3 frames each) and the batch; the source ends at frame 3.
  { name: 'completion', source: 'a-b|', expected: '^--!' },
  { name: 'an error from the source', source: 'a-#', expected: '^-!' },
  // With retries, b's worker fails at frame 3, so a backoff is pending when the subscriber leaves.
  { name: 'an early unsubscribe', source: 'a-b-c-d-', unsubscribeAt: 4, expected: '^---!' },
];

describe('teardown: every stage releases its source, its inners and its timers', () => {
  for (const stage of STAGES) {
    for (const ending of ENDINGS) {
      it(`${stage.name}: on ${ending.name}`, () => {
        let leftAfterEnd = -1;
        let innersOpen = -1;
        marbles(({ cold, expectSubscriptions }, scheduler) => {
          const source = cold(ending.source);
          const inners: ReturnType<typeof cold<string>>[] = [];
          const inner: Inner = (v) => {
            const o = cold<string>(stage.retries === true && v === 'b' ? '-#' : (stage.work ?? '--x|'));
            inners.push(o);
            return o.pipe(map(() => v));
          };
          // One frame after the stream ended, before any backoff, batch or deadline timer would
          // have fired by itself: nothing may be left to run. A timer left behind that only finds
          // its stage finished is still a leak, and only this check sees it.
          const probeSoon = (): void => {
            scheduler.schedule(() => {
              leftAfterEnd = scheduler.actions.length;
              innersOpen = inners
                .flatMap((o) => o.subscriptions)
                .filter((s) => s.unsubscribedFrame === Infinity).length;
            }, 1);
          };
          const subscription = source
            .pipe(stage.make(scheduler, inner))
            .subscribe({ error: probeSoon, complete: probeSoon });
          if (ending.unsubscribeAt !== undefined) {
            scheduler.schedule(() => {
              subscription.unsubscribe();
              probeSoon();
            }, ending.unsubscribeAt);
          }
          expectSubscriptions(source.subscriptions).toBe(stage.sourceReleased ?? ending.expected);
        });
        expect(leftAfterEnd).toBe(0);
        expect(innersOpen).toBe(0);
      });
    }
  }
});
