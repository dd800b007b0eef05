import { map, take } from 'rxjs';
import { CancelledError } from '../../lib/core/errors.js';
import { workerMonitor } from '../../lib/pool/stats.js';
import { boundedBuffer, bufferMonitor } from '../../operators/boundedBuffer.js';
import { mergeWorkers } from '../../operators/mergeWorkers.js';
import { orderedMerge } from '../../operators/orderedMerge.js';
import { defineCase, defineCases } from '../case.js';
import { pullEvery, upper } from '../testing.js';

/*
 * In these cases a worker's job is an inner cold observable: `job` takes three frames and emits
 * the value upper-cased; `slow` takes eight. The source is pausable (boundedBuffer with 'block'
 * over a channel is not expressible in marbles, so a push source behind the pool's own bounded
 * queue stands in), and the subscriptions show when each job held a slot.
 */

export const mergeWorkersCases = defineCases('mergeWorkers', [
  defineCase({
    id: 'mergeWorkers-pull',
    title: 'mergeWorkers: two workers; a value is taken only when a worker is free, results as they finish',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: 'mergeWorkers(job, { concurrency: 2 })',
    operator: ({ inner }) => mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 2 }),
    expected: { marbles: '---AB-C(D|)' },
    subscriptions: {
      source: '^---!',
      inner: { job: ['^--!', '-^--!', '---^--!', '----^--!'] },
    },
  }),

  defineCase({
    id: 'mergeWorkers-slow-first',
    title: 'mergeWorkers: a slow first value does not stop the other worker',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '--(x|)' }, slow: { marbles: '--------(x|)' } },
    operatorLabel: 'mergeWorkers(v => v === "a" ? slow : job, { concurrency: 2 })',
    operator: ({ inner }) =>
      mergeWorkers((v: string) => (v === 'a' ? inner.slow : inner.job).pipe(map(() => upper(v))), { concurrency: 2 }),
    expected: { marbles: '---B-C-D(A|)' },
    diagram: { frameWidth: 40 },
  }),

  defineCase({
    id: 'mergeWorkers-take',
    title: 'mergeWorkers: take(2) downstream aborts the running work and unsubscribes every inner',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '---(x|)' }, slow: { marbles: '-------(x|)' } },
    operatorLabel: 'mergeWorkers(v => v === "c" ? slow : job, { concurrency: 3 }) → take(2)',
    context: () => ({ signals: new Map<string, AbortSignal>() }),
    pipeline: (source$, { inner, context }) =>
      source$.pipe(
        mergeWorkers(
          (v: string, { signal }) => {
            context.signals.set(v, signal);
            return (v === 'c' ? inner.slow : inner.job).pipe(map(() => upper(v)));
          },
          { concurrency: 3 },
        ),
        take(2),
      ),
    expected: { marbles: '---A(B|)' },
    subscriptions: { source: '^---!', inner: { job: ['^--!', '-^--!', '---^!'], slow: '--^-!' } },
    verify: ({ context, expect }) => {
      const c = context.signals.get('c')!;
      expect(c.aborted).toBe(true);
      expect(c.reason instanceof CancelledError && c.reason.reason).toBe('unsubscribed');
      expect(context.signals.get('d')!.aborted).toBe(true);
      expect(context.signals.get('a')!.aborted).toBe(false);
    },
  }),

  defineCase({
    id: 'mergeWorkers-fail-fast',
    title: 'mergeWorkers: the first error wins, and the other workers are aborted',
    source: { marbles: 'abc|' },
    inner: { job: { marbles: '-----(x|)' }, bad: { marbles: '--#' }, worse: { marbles: '-#' } },
    operatorLabel: 'mergeWorkers(job, { concurrency: 3 }) (b fails at 3, c at 3)',
    context: () => ({ signals: new Map<string, AbortSignal>() }),
    operator: ({ inner, context }) =>
      mergeWorkers(
        (v: string, { signal }) => {
          context.signals.set(v, signal);
          return v === 'a' ? inner.job : v === 'b' ? inner.bad : inner.worse;
        },
        { concurrency: 3 },
      ),
    expected: { marbles: '---#', error: 'error' },
    subscriptions: { source: '^--!', inner: { job: '^--!', bad: '-^-!', worse: '--^!' } },
    verify: ({ context, expect }) => {
      const a = context.signals.get('a')!;
      expect(a.aborted).toBe(true);
      expect(a.reason instanceof CancelledError && a.reason.reason).toBe('sibling-failed');
      expect(context.signals.get('b')!.aborted).toBe(false);
    },
  }),

  defineCase({
    id: 'mergeWorkers-backpressure',
    title: 'mergeWorkers behind a slow demand-aware consumer takes no new values while results wait',
    source: { marbles: 'abcdefgh|' },
    inner: { job: { marbles: '-(x|)' } },
    operatorLabel:
      "boundedBuffer({ capacity: 2, overflow: 'drop-newest' }) → mergeWorkers(job, { concurrency: 2 }) → pullEvery(4)",
    context: () => ({ monitor: workerMonitor(), buffer: bufferMonitor() }),
    operator:
      ({ inner, scheduler, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer({ capacity: 2, overflow: 'drop-newest', monitor: context.buffer }),
          mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), {
            concurrency: 2,
            monitor: context.monitor,
          }),
          pullEvery(4, scheduler),
        ),
    expected: { marbles: '-A---B---C---D---E---(F|)' },
    verify: ({ context, expect }) => {
      // The pool stopped pulling once results waited; the buffer in front absorbed e and f and
      // dropped g and h, counted. Without the handshake mergeMap would have run all eight.
      expect(context.buffer.snapshot()).toMatchObject({ received: 8, dropped: 2, highWater: 2 });
      expect(context.monitor.snapshot()).toMatchObject({ completed: 6, inFlight: 0, queued: 0 });
    },
    diagram: { frameWidth: 28 },
  }),

  defineCase({
    id: 'orderedMerge-window',
    title: 'orderedMerge: results in input order; a slow head holds later results within the window',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '--(x|)' }, slow: { marbles: '------(x|)' } },
    operatorLabel: 'orderedMerge(v => v === "a" || v === "d" ? slow : job, { concurrency: 2, window: 3 })',
    operator: ({ inner }) =>
      orderedMerge((v: string) => (v === 'a' || v === 'd' ? inner.slow : inner.job).pipe(map(() => upper(v))), {
        concurrency: 2,
        window: 3,
      }),
    expected: { marbles: '------(ABC)-(D|)' },
    subscriptions: { inner: { job: ['-^-!', '---^-!'], slow: ['^-----!', '------^-----!'] } },
    diagram: { frameWidth: 40 },
  }),

  defineCase({
    id: 'mergeWorkers-demand',
    title: 'mergeWorkers over a pull source: it asks for one value per free worker, never more',
    description:
      'The two workers ask for two values at frame 0 and then for one each time a job ends (3, 5): ' +
      'the demand lane is the pool pulling. The completion needs no request.',
    source: { kind: 'pull', marbles: 'a-bcd|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: 'mergeWorkers(job, { concurrency: 2 })',
    operator: ({ inner }) => mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 2 }),
    expected: { marbles: '---A-BC-(D|)' },
    demand: '2--1-1',
    subscriptions: { source: '^----!', inner: { job: ['^--!', '--^--!', '---^--!', '-----^--!'] } },
  }),
  defineCase({
    id: 'mergeWorkers-keyed',
    title: 'mergeWorkers with a key: values of one key run one at a time and in order, other keys beside them',
    description:
      'a and b share a key: b waits, counted as queued, until a is done at 3, while c and d, of other keys, ' +
      'take the free workers at once.',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: "mergeWorkers(job, { concurrency: 3, key: v => (v === 'b' ? 'a' : v) })",
    operator: ({ inner }) =>
      mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), {
        concurrency: 3,
        key: (v: string) => (v === 'b' ? 'a' : v),
      }),
    expected: { marbles: '---A-C(DB|)' },
    diagram: { frameWidth: 40 },
  }),

  defineCase({
    id: 'mergeWorkers-timeout',
    title: 'mergeWorkers with a timeout: an attempt past it is aborted with a TimeoutError, and retry sees it',
    description:
      'a\u2019s first attempt runs past 3 frames: its signal aborts with a TimeoutError and its inner is let go; ' +
      'the retry, one frame later, finishes in time.',
    source: { marbles: 'a|' },
    inner: { slow: { marbles: '------(x|)' }, job: { marbles: '-(x|)' } },
    operatorLabel: 'mergeWorkers(work, { concurrency: 1, timeout: 3, retry: { count: 1, delay: 1 } })',
    operator: ({ inner, scheduler }) =>
      mergeWorkers((v: string, { attempt }) => (attempt === 1 ? inner.slow : inner.job).pipe(map(() => upper(v))), {
        concurrency: 1,
        timeout: 3,
        retry: { count: 1, delay: 1, jitter: 0 },
        scheduler,
      }),
    expected: { marbles: '-----(A|)' },
    subscriptions: { inner: { slow: '^--!', job: '----^!' } },
    diagram: { frameWidth: 40 },
  }),
]);
