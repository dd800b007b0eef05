import { map, take } from 'rxjs';
import { OverflowError } from '../../lib/core/errors.js';
import { boundedBuffer, bufferMonitor } from '../../operators/boundedBuffer.js';
import { mergeWorkers } from '../../operators/mergeWorkers.js';
import { rateLimit, rateMonitor } from '../../operators/rateLimit.js';
import { defineCase, defineCases } from '../case.js';
import { pullEvery, upper } from '../testing.js';

/*
 * The windows run on the run's TestScheduler, so `per: 5` is five frames. A slot taken by a value
 * emitted at frame t comes back at t + per, so in any `per` frames at most `count` values pass.
 * Marble sources are plain Observables: they reach the limiter through its bounded queue, or
 * through a boundedBuffer placed in front to show a pausable source being read at the rate.
 */

export const rateLimitCases = defineCases('rateLimit', [
  defineCase({
    id: 'rateLimit-pull',
    title: 'rateLimit: at most `count` values in any window of `per` frames; a slot comes back `per` after its value',
    description:
      'a and b take both slots at 0 and 1; they come back at 5 and 6 for c and d, then at 10 and 11 for e and f. ' +
      'The source completed at 6; completion follows the last value.',
    source: { marbles: 'abcdef|' },
    operatorLabel: 'rateLimit({ count: 2, per: 5 })',
    context: () => ({ monitor: rateMonitor() }),
    operator: ({ scheduler, context }) => rateLimit({ count: 2, per: 5, scheduler, monitor: context.monitor }),
    expected: { marbles: 'ab---cd---e(f|)' },
    subscriptions: { source: '^-----!' },
    verify: ({ context, expect }) => {
      expect(context.monitor.snapshot()).toMatchObject({ received: 6, emitted: 6, discarded: 0, held: 0 });
      expect(context.monitor.snapshot().queue).toMatchObject({ received: 6, emitted: 6, dropped: 0, depth: 0 });
    },
    diagram: { frameWidth: 30 },
  }),

  defineCase({
    id: 'rateLimit-burst',
    title: 'rateLimit with burst 1: the rate is spread, one value every per / count frames',
    source: { marbles: '(abcd)|' },
    operatorLabel: 'rateLimit({ count: 4, per: 8, burst: 1 })',
    operator: ({ scheduler }) => rateLimit({ count: 4, per: 8, burst: 1, scheduler }),
    expected: { marbles: 'a-b-c-(d|)' },
  }),

  defineCase({
    id: 'rateLimit-pausable',
    title:
      'rateLimit reads a pausable source no faster than the rate: the upstream queue keeps what it was not asked for',
    description:
      'The boundedBuffer makes the source pausable; the limiter asks it for one value per free slot, so the ' +
      'values wait in the buffer in front (its high-water mark is 4) and the limiter itself holds none.',
    source: { marbles: 'abcdef|' },
    operatorLabel: "boundedBuffer({ capacity: 8, overflow: 'error' }) → rateLimit({ count: 1, per: 3 })",
    context: () => ({ buffer: bufferMonitor(), rate: rateMonitor() }),
    operator:
      ({ scheduler, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer({ capacity: 8, overflow: 'error', monitor: context.buffer }),
          rateLimit({ count: 1, per: 3, scheduler, monitor: context.rate }),
        ),
    expected: { marbles: 'a--b--c--d--e--(f|)' },
    verify: ({ context, expect }) => {
      expect(context.buffer.snapshot()).toMatchObject({ received: 6, emitted: 6, highWater: 4 });
      expect(context.rate.snapshot()).toMatchObject({ received: 6, emitted: 6, held: 0, queue: undefined });
    },
    diagram: { frameWidth: 24 },
  }),

  defineCase({
    id: 'rateLimit-mergeWorkers',
    title: 'rateLimit before mergeWorkers: the pool pulls for free workers, and its pulls are what the rate limits',
    description:
      'Four workers are free, but work starts for at most two values in any five frames (the job subscriptions).',
    source: { marbles: 'abcdef|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: 'rateLimit({ count: 2, per: 5 }) → mergeWorkers(job, { concurrency: 4 })',
    operator:
      ({ scheduler, inner }) =>
      (source$) =>
        source$.pipe(
          rateLimit({ count: 2, per: 5, scheduler }),
          mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 4 }),
        ),
    expected: { marbles: '---AB---CD---E(F|)' },
    subscriptions: {
      inner: { job: ['^--!', '-^--!', '-----^--!', '------^--!', '----------^--!', '-----------^--!'] },
    },
    diagram: { frameWidth: 30 },
  }),

  defineCase({
    id: 'rateLimit-demand',
    title: 'rateLimit behind a slow demand-aware consumer: a value goes when there is both a slot and demand',
    description: 'The consumer asks every 4 frames; the rate (2 per 10) is the tighter limit after b.',
    source: { marbles: 'abcde|' },
    operatorLabel: 'rateLimit({ count: 2, per: 10 }) → pullEvery(4)',
    operator:
      ({ scheduler }) =>
      (source$) =>
        source$.pipe(rateLimit({ count: 2, per: 10, scheduler }), pullEvery(4, scheduler)),
    expected: { marbles: 'a---b-----c---d-----(e|)' },
    diagram: { frameWidth: 24 },
  }),

  defineCase({
    id: 'rateLimit-overflow',
    title: 'rateLimit over a push source that outruns the rate by more than the capacity fails with an OverflowError',
    source: { marbles: 'abcdef|' },
    operatorLabel: 'rateLimit({ count: 1, per: 10, capacity: 2 })',
    operator: ({ scheduler }) => rateLimit({ count: 1, per: 10, capacity: 2, scheduler }),
    expected: { marbles: 'a--#', error: new OverflowError('rateLimit', 2, 'error') },
    subscriptions: { source: '^--!' },
  }),

  defineCase({
    id: 'rateLimit-error',
    title: 'rateLimit: a source error is delivered at once, and the waiting values are discarded and counted',
    source: { marbles: 'abc#' },
    operatorLabel: 'rateLimit({ count: 1, per: 10 })',
    context: () => ({ monitor: rateMonitor() }),
    operator: ({ scheduler, context }) => rateLimit({ count: 1, per: 10, scheduler, monitor: context.monitor }),
    expected: { marbles: 'a--#' },
    subscriptions: { source: '^--!' },
    verify: ({ context, expect }) => {
      expect(context.monitor.snapshot().queue).toMatchObject({ received: 3, emitted: 1, discarded: 2 });
    },
  }),

  defineCase({
    id: 'rateLimit-take',
    title: 'rateLimit: take(2) downstream releases the source and the window timers',
    source: { marbles: 'abcdef|' },
    operatorLabel: 'rateLimit({ count: 1, per: 4 }) → take(2)',
    pipeline: (source$, { scheduler }) => source$.pipe(rateLimit({ count: 1, per: 4, scheduler }), take(2)),
    expected: { marbles: 'a---(b|)' },
    subscriptions: { source: '^---!' },
  }),
]);
