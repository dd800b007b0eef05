import { map, pipe } from 'rxjs';
import { CancelledError } from '../../lib/core/errors.js';
import { boundedBuffer } from '../../operators/boundedBuffer.js';
import { drainOnComplete, type DrainReport } from '../../operators/drainOnComplete.js';
import { mergeWorkers } from '../../operators/mergeWorkers.js';
import { defineCase, defineCases } from '../case.js';

/*
 * The segment is a queue of two in front of two workers; each job takes four frames. `stop` is
 * a hot stream given as the case's second input (see operatorLabel).
 */

export const drainOnCompleteCases = defineCases('drainOnComplete', [
  defineCase({
    id: 'drainOnComplete-drain',
    title: 'drainOnComplete: on stop the source is released and every accepted value is finished before completion',
    source: { marbles: 'abcdefgh', kind: 'hot' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: "drainOnComplete(pipe(boundedBuffer(2), mergeWorkers(job, 2)), { stop: '---s', deadline: 20 })",
    context: () => ({ reports: [] as DrainReport[] }),
    operator: ({ inner, hot, context, scheduler }) =>
      drainOnComplete(
        pipe(
          boundedBuffer<string>({ capacity: 2, overflow: 'drop-newest' }),
          mergeWorkers((v: string) => inner.job.pipe(map(() => v.toUpperCase())), { concurrency: 2 }),
        ),
        { stop: hot('---s'), deadline: 20, scheduler, onReport: (r) => context.reports.push(r) },
      ),
    // a and b run at once; c and d wait in the queue (d arrives in the same frame as the stop,
    // just before it). The stop at 3 releases the source; c and d still run and come out, then
    // the output completes.
    expected: { marbles: '----AB--C(D|)' },
    subscriptions: { source: '^--!', inner: { job: ['^---!', '-^---!', '----^---!', '-----^---!'] } },
    verify: ({ context, expect }) => {
      expect(context.reports).toEqual([
        {
          outcome: 'drained',
          accepted: 4,
          completed: 4,
          dropped: 0,
          failed: 0,
          aborted: 0,
          neverStarted: 0,
          undelivered: 0,
          unaccounted: 0,
          stages: [],
        },
      ]);
    },
  }),

  defineCase({
    id: 'drainOnComplete-deadline',
    title:
      'drainOnComplete: at the deadline what still runs is aborted with reason deadline, and the report says what was left',
    source: { marbles: 'abcde', kind: 'hot' },
    inner: { job: { marbles: '-----(x|)' } },
    operatorLabel: "drainOnComplete(pipe(boundedBuffer(3), mergeWorkers(job, 1)), { stop: '--s', deadline: 4 })",
    context: () => ({ reports: [] as DrainReport[], signals: [] as AbortSignal[] }),
    operator: ({ inner, hot, context, scheduler }) =>
      drainOnComplete(
        pipe(
          boundedBuffer<string>({ capacity: 3, overflow: 'drop-newest' }),
          mergeWorkers(
            (v: string, { signal }) => {
              context.signals.push(signal);
              return inner.job.pipe(map(() => v.toUpperCase()));
            },
            { concurrency: 1 },
          ),
        ),
        { stop: hot('--s'), deadline: 4, scheduler, onReport: (r) => context.reports.push(r) },
      ),
    // One worker: a runs 0-5, b would run 5-10, c waits in the queue. The stop at 2 (after c)
    // starts the drain; the deadline at 6 aborts b and abandons c.
    expected: { marbles: '-----A|' },
    subscriptions: { source: '^-!', inner: { job: ['^----!', '-----^!'] } },
    verify: ({ context, expect }) => {
      expect(context.reports).toEqual([
        {
          outcome: 'deadline',
          accepted: 3,
          completed: 1,
          dropped: 0,
          failed: 0,
          aborted: 1,
          neverStarted: 1,
          undelivered: 0,
          unaccounted: 0,
          stages: [
            { operator: 'boundedBuffer', dropped: 0, failed: 0, aborted: 0, neverStarted: 1, undelivered: 0 },
            { operator: 'mergeWorkers', dropped: 0, failed: 0, aborted: 1, neverStarted: 0, undelivered: 0 },
          ],
        },
      ]);
      const b = context.signals[1]!;
      expect(b.reason instanceof CancelledError && b.reason.reason).toBe('deadline');
    },
  }),
]);
