import { NEVER } from 'rxjs';
import { fromPull } from '../../operators/fromPull.js';
import { abortable } from '../../operators/abortable.js';
import { mergeWorkers } from '../../operators/mergeWorkers.js';
import { defineCase, defineCases } from '../case.js';

/*
 * The signal is aborted by an action scheduled on the run's scheduler, at frame 3.
 */

export const abortableCases = defineCases('abortable', [
  defineCase({
    id: 'abortable-abort',
    title: "abortable: the signal's abort fails the stream with its reason and unsubscribes the source",
    source: { marbles: 'a-b-c-d-|' },
    operatorLabel: 'abortable(signal) — signal aborted at frame 3',
    operator:
      ({ scheduler }) =>
      (source$) => {
        const controller = new AbortController();
        scheduler.schedule(() => controller.abort('stop'), 3);
        return source$.pipe(abortable(controller.signal));
      },
    expected: { marbles: 'a-b#', error: 'stop' },
    subscriptions: { source: '^--!' },
  }),

  defineCase({
    id: 'abortable-intake',
    title: "abortable at the intake: the reason reaches the running workers' signals as the cause",
    description:
      'Each value is worked on forever; the abort at frame 2 aborts both with a CancelledError caused by it.',
    source: { marbles: '|' },
    operatorLabel: 'fromPull([1, 2, 3]) → abortable(signal) → mergeWorkers(never, { concurrency: 2 })',
    context: () => ({ signals: [] as AbortSignal[] }),
    pipeline: (_source$, { scheduler, context }) => {
      const controller = new AbortController();
      scheduler.schedule(() => controller.abort('stop'), 2);
      return fromPull([1, 2, 3]).pipe(
        abortable(controller.signal),
        mergeWorkers((_v: number, { signal }) => (context.signals.push(signal), NEVER), { concurrency: 2 }),
      );
    },
    expected: { marbles: '--#', error: 'stop' },
    subscriptions: { source: [] },
    verify: ({ context, expect }) => {
      expect(context.signals.map((s) => s.aborted)).toEqual([true, true]);
      expect(context.signals.map((s) => (s.reason as { cause?: unknown }).cause)).toEqual(['stop', 'stop']);
    },
    diagram: false,
  }),
]);
