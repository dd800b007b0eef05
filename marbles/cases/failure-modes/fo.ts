import {
  EMPTY,
  Observable,
  Subject,
  catchError,
  concat,
  concatMap,
  defer,
  groupBy,
  ignoreElements,
  map,
  merge,
  mergeMap,
  of,
  reduce,
  takeUntil,
  takeWhile,
  tap,
  throwError,
  timer,
  type Subscription,
} from 'rxjs';
import { workerMonitor } from '../../../lib/pool/stats.js';
import { batchFresh } from '../../../operators/batchFresh.js';
import { drainOnComplete, type DrainReport } from '../../../operators/drainOnComplete.js';
import { mergeWorkers } from '../../../operators/mergeWorkers.js';
import { orderedMerge } from '../../../operators/orderedMerge.js';
import { defineCase, defineCases } from '../../case.js';
import { at, cancelReason, upper } from './wp.js';

/*
 * Fan-out, find the bug (seed 004). As in wp.ts: each naive case ports the Go bug to the RxJS a
 * JavaScript developer would write and pins what goes wrong; the library case runs the same jobs
 * through the library. Jobs are inner cold streams, so the diagrams show when each one ran.
 */

const errB = new Error('b failed');
const errD = new Error('d failed');

/**
 * Work in `steps` steps, each one run of `step$`, calling `onStep(i)` as step i ends; like an
 * async function it cannot be unsubscribed. Given a `signal`, it checks it between steps and
 * abandons the running step when it aborts (what a cancellation-aware worker does).
 */
function stepped<R>(
  step$: Observable<unknown>,
  steps: number,
  onStep: (i: number) => void,
  result: () => R,
  signal?: AbortSignal,
): Observable<R> {
  return new Observable<R>((subscriber) => {
    let running: Subscription | undefined;
    const run = (i: number): void => {
      if (signal?.aborted === true) return;
      running = step$.subscribe({
        complete: () => {
          onStep(i);
          if (i < steps) {
            run(i + 1);
            return;
          }
          subscriber.next(result());
          subscriber.complete();
        },
      });
    };
    signal?.addEventListener('abort', () => running?.unsubscribe(), { once: true });
    run(1);
  });
}

type Counts = Record<string, number>;

function countWords(words: readonly string[]): Counts {
  const counts: Counts = {};
  for (const w of words) counts[w] = (counts[w] ?? 0) + 1;
  return counts;
}

function mergeCounts(total: Counts, part: Counts): Counts {
  const merged = { ...total };
  for (const [w, n] of Object.entries(part)) merged[w] = (merged[w] ?? 0) + n;
  return merged;
}

export const foCases = defineCases('failure modes FO', [
  // ---- FO-01 Workers exit early on first error; the last error is returned --------------------
  defineCase({
    id: 'fm-fo-01-naive',
    title:
      '[FO-01] naive: each failing worker stores its error in a shared variable; the pool grinds on and reports the last',
    description:
      'catchError keeps a failing worker from stopping anyone: b fails at 2, yet c and d still run, and the ' +
      'error reported at the end is d’s, the last one, not b’s.',
    source: { marbles: 'abcd|' },
    inner: {
      slow: { marbles: '-----(x|)' },
      job: { marbles: '--(x|)' },
      bad: { marbles: '-#', error: errB },
      worse: { marbles: '-#', error: errD },
    },
    operatorLabel:
      'mergeMap(v => work(v).pipe(catchError(e => { lastErr = e; return EMPTY })), 2) → then throw lastErr',
    context: (): { lastErr: unknown; worked: string[] } => ({ lastErr: undefined, worked: [] }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      concat(
        source$.pipe(
          mergeMap((v) => {
            context.worked.push(v);
            const work = v === 'a' ? inner.slow : v === 'b' ? inner.bad : v === 'c' ? inner.job : inner.worse;
            return work.pipe(
              map(() => upper(v)),
              catchError((err: unknown) => {
                context.lastErr = err;
                return EMPTY;
              }),
            );
          }, 2),
        ),
        defer(() => (context.lastErr === undefined ? EMPTY : throwError(() => context.lastErr))),
      ),
    expected: { marbles: '----C(A#)', error: errD },
    subscriptions: { source: '^---!', inner: { slow: '^----!', bad: '-^!', job: '--^-!', worse: '----^!' } },
    verify: ({ context, expect }) => {
      expect(context.worked).toEqual(['a', 'b', 'c', 'd']);
      expect(context.lastErr).toBe(errD);
    },
  }),
  defineCase({
    id: 'fm-fo-01-library',
    title:
      "[FO-01] library: fail-fast delivers the first error at once and aborts the other workers ('sibling-failed')",
    source: { marbles: 'abcd|' },
    inner: {
      slow: { marbles: '-----(x|)' },
      job: { marbles: '--(x|)' },
      bad: { marbles: '-#', error: errB },
      worse: { marbles: '-#', error: errD },
    },
    operatorLabel: 'mergeWorkers(work, { concurrency: 2 }) (errors: fail-fast, the default)',
    context: () => ({ signals: new Map<string, AbortSignal>() }),
    operator: ({ inner, context }) =>
      mergeWorkers(
        (v: string, { signal }) => {
          context.signals.set(v, signal);
          const work = v === 'a' ? inner.slow : v === 'b' ? inner.bad : v === 'c' ? inner.job : inner.worse;
          return work.pipe(map(() => upper(v)));
        },
        { concurrency: 2 },
      ),
    expected: { marbles: '--#', error: errB },
    subscriptions: { source: '^-!', inner: { slow: '^-!', bad: '-^!', job: [], worse: [] } },
    verify: ({ context, expect }) => {
      expect(cancelReason(context.signals.get('a'))).toBe('sibling-failed');
      expect((context.signals.get('a')?.reason as Error).cause).toBe(errB);
      expect([...context.signals.keys()]).toEqual(['a', 'b']);
    },
  }),

  // ---- FO-02 Missing wg.Done on an early-return path (a slot is never released) ---------------
  defineCase({
    id: 'fm-fo-02-naive',
    title:
      '[FO-02] naive: an early return in a hand-written inner never completes it, and each one holds a slot for ever',
    description:
      'b and c take the early-return path of `new Observable(...)` and never call complete(): two leaked slots ' +
      'stop the pool of two at frame 2. d and e are never worked and the output never completes.',
    source: { marbles: 'abcde|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'mergeMap(v => new Observable(s => { if (bad(v)) return; ... }), 2)',
    context: () => ({ worked: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        mergeMap(
          (v) =>
            new Observable<string>((subscriber) => {
              context.worked.push(v);
              if (v === 'b' || v === 'c') return; // early return: complete() is never called
              return inner.job.pipe(map(() => upper(v))).subscribe(subscriber);
            }),
          2,
        ),
      ),
    expected: { marbles: '--A' },
    subscriptions: { source: '^----!', inner: { job: '^-!' } },
    verify: ({ context, expect }) => {
      expect(context.worked).toEqual(['a', 'b', 'c']);
    },
  }),
  defineCase({
    id: 'fm-fo-02-library',
    title: '[FO-02] library: the pool, not the worker, releases the slot, on every way out: completion, error or throw',
    description:
      'The worker holds no token to forget. Here b exits early with EMPTY and c throws (reported under ' +
      "errors: 'continue'); both slots are released at once and d and e are worked. An async worker's early " +
      'return resolves its promise, which releases the slot the same way.',
    source: { marbles: 'abcde|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: "mergeWorkers(v => bad(v) ? EMPTY or throw : job, { concurrency: 2, errors: 'continue' })",
    context: () => ({ worked: [] as string[], monitor: workerMonitor() }),
    operator: ({ inner, context }) =>
      mergeWorkers(
        (v: string) => {
          context.worked.push(v);
          if (v === 'b') return EMPTY;
          if (v === 'c') throw new Error('c is bad');
          return inner.job.pipe(map(() => upper(v)));
        },
        { concurrency: 2, errors: 'continue', onError: () => undefined, monitor: context.monitor },
      ),
    expected: { marbles: '--A--D(E|)' },
    subscriptions: { source: '^----!', inner: { job: ['^-!', '---^-!', '----^-!'] } },
    verify: ({ context, expect }) => {
      expect(context.worked).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(context.monitor.snapshot()).toMatchObject({ completed: 4, failed: 1, inFlight: 0 });
    },
  }),

  // ---- FO-03 Work not distributed (single worker bottleneck) ---------------------------------
  defineCase({
    id: 'fm-fo-03-naive',
    title: '[FO-03] naive: four workers are merged but only the first reads the jobs; they run one at a time',
    description: 'After a refactor only worker 0 subscribes to the jobs; workers 1 to 3 are there and idle.',
    source: { marbles: '(abcd|)' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'merge(jobs.pipe(concatMap(job)), idle, idle, idle)',
    context: () => ({ perWorker: [0, 0, 0, 0] }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      merge(
        ...[0, 1, 2, 3].map(
          (w) =>
            w === 0
              ? source$.pipe(
                  concatMap((v) => {
                    context.perWorker[w]!++;
                    return inner.job.pipe(map(() => upper(v)));
                  }),
                )
              : EMPTY, // the worker body lost its read of the jobs
        ),
      ),
    expected: { marbles: '--A-B-C-(D|)' },
    subscriptions: { inner: { job: ['^-!', '--^-!', '----^-!', '------^-!'] } },
    verify: ({ context, expect }) => {
      expect(context.perWorker).toEqual([4, 0, 0, 0]);
    },
  }),
  defineCase({
    id: 'fm-fo-03-library',
    title: '[FO-03] library: every free slot pulls the next job, so four jobs run at once on four slots',
    source: { marbles: '(abcd|)' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'mergeWorkers(job, { concurrency: 4 })',
    context: () => ({ active: 0, maxActive: 0 }),
    operator: ({ inner, context }) =>
      mergeWorkers(
        (v: string) =>
          defer(() => {
            context.maxActive = Math.max(context.maxActive, ++context.active);
            return inner.job.pipe(
              map(() => upper(v)),
              tap({ complete: () => context.active-- }),
            );
          }),
        { concurrency: 4 },
      ),
    expected: { marbles: '--(ABCD|)' },
    subscriptions: { inner: { job: ['^-!', '^-!', '^-!', '^-!'] } },
    verify: ({ context, expect }) => {
      expect(context.maxActive).toBe(4);
    },
  }),

  // ---- FO-04 Channel leaked: the closer never runs -------------------------------------------
  defineCase({
    id: 'fm-fo-04-naive',
    title: '[FO-04] naive: a hand-rolled fan-out pushes results into a Subject that nobody completes',
    description:
      'Every worker forwards its result with out.next(); nobody owns out.complete(). All work is done at 4, ' +
      'the source completed at 3, and the consumer waits for ever.',
    source: { marbles: 'abc|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'out = new Subject(); source.subscribe(v => job(v).subscribe(r => out.next(r)))',
    pipeline: (source$: Observable<string>, { inner }) =>
      new Observable<string>((subscriber) => {
        const out = new Subject<string>();
        const subscription = out.subscribe(subscriber);
        subscription.add(
          source$.subscribe((v) => {
            subscription.add(inner.job.pipe(map(() => upper(v))).subscribe((r) => out.next(r)));
          }),
        );
        return subscription;
      }),
    expected: { marbles: '--ABC' },
    subscriptions: { source: '^--!', inner: { job: ['^-!', '-^-!', '--^-!'] } },
  }),
  defineCase({
    id: 'fm-fo-04-library',
    title:
      '[FO-04] library: the pool is the closer; its output completes after the source and the last worker are done',
    source: { marbles: 'abc|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'mergeWorkers(job, { concurrency: 3 })',
    operator: ({ inner }) => mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 3 }),
    expected: { marbles: '--AB(C|)' },
    subscriptions: { source: '^--!', inner: { job: ['^-!', '-^-!', '--^-!'] } },
  }),

  // ---- FO-05 Single slow worker stalls all (head-of-line blocking) ----------------------------
  defineCase({
    id: 'fm-fo-05-naive',
    title:
      '[FO-05] naive: jobs pre-assigned round-robin to two lanes; c and e wait behind slow a while the other lane idles',
    description: 'Lane 0 gets a, c, e and lane 1 gets b, d, f. Lane 1 is idle from 6; c and e finish at 9 and 10.',
    source: { marbles: 'abcdef|' },
    inner: { job: { marbles: '-(x|)' }, slow: { marbles: '--------(x|)' } },
    operatorLabel: 'groupBy(index % 2) → mergeMap(lane => lane.pipe(concatMap(work)))',
    pipeline: (source$: Observable<string>, { inner }) =>
      source$.pipe(
        map((v, i) => ({ v, lane: i % 2 })),
        groupBy((job) => job.lane),
        mergeMap((lane$) =>
          lane$.pipe(concatMap(({ v }) => (v === 'a' ? inner.slow : inner.job).pipe(map(() => upper(v))))),
        ),
      ),
    expected: { marbles: '--B-D-F-AC(E|)' },
    subscriptions: { inner: { slow: '^-------!', job: ['-^!', '---^!', '-----^!', '--------^!', '---------^!'] } },
    diagram: { frameWidth: 30 },
  }),
  defineCase({
    id: 'fm-fo-05-library',
    title: '[FO-05] library: mergeWorkers lets the free worker take every next job while the slow one works on',
    source: { marbles: 'abcdef|' },
    inner: { job: { marbles: '-(x|)' }, slow: { marbles: '--------(x|)' } },
    operatorLabel: 'mergeWorkers(v => v === "a" ? slow : job, { concurrency: 2 })',
    operator: ({ inner }) =>
      mergeWorkers((v: string) => (v === 'a' ? inner.slow : inner.job).pipe(map(() => upper(v))), { concurrency: 2 }),
    expected: { marbles: '--BCDEF-(A|)' },
    subscriptions: { inner: { slow: '^-------!', job: ['-^!', '--^!', '---^!', '----^!', '-----^!'] } },
    diagram: { frameWidth: 30 },
  }),
  defineCase({
    id: 'fm-fo-05-library-ordered',
    title: '[FO-05] library: orderedMerge keeps input order; work runs ahead of the slow head only within its window',
    description:
      'With window 3, b and c finish behind a and wait; d arrives at 3 but is not taken until A is emitted at ' +
      '8, so the reorder buffer never holds more than the window.',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '-(x|)' }, slow: { marbles: '--------(x|)' }, long: { marbles: '-----(x|)' } },
    operatorLabel: 'orderedMerge(v => v === "a" ? slow : v === "d" ? long : job, { concurrency: 2, window: 3 })',
    operator: ({ inner }) =>
      orderedMerge(
        (v: string) => (v === 'a' ? inner.slow : v === 'd' ? inner.long : inner.job).pipe(map(() => upper(v))),
        { concurrency: 2, window: 3 },
      ),
    expected: { marbles: '--------(ABC)(D|)' },
    // d's job starts at 8, when A leaves the window, not at 3 when d arrived and a worker was free.
    subscriptions: { inner: { slow: '^-------!', job: ['-^!', '--^!'], long: '--------^----!' } },
    diagram: { frameWidth: 30 },
  }),

  // ---- FO-06 Unbounded fan-out exhausts memory ------------------------------------------------
  defineCase({
    id: 'fm-fo-06-naive',
    title: '[FO-06] naive: mergeMap without a limit starts one inner per value, all eight at once',
    source: { marbles: '(abcdefgh|)' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: 'mergeMap(job)',
    context: () => ({ active: 0, maxActive: 0 }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        mergeMap((v) =>
          defer(() => {
            context.maxActive = Math.max(context.maxActive, ++context.active);
            return inner.job.pipe(
              map(() => upper(v)),
              tap({ complete: () => context.active-- }),
            );
          }),
        ),
      ),
    expected: { marbles: '----(ABCDEFGH|)' },
    verify: ({ context, expect }) => {
      expect(context.maxActive).toBe(8);
    },
  }),
  defineCase({
    id: 'fm-fo-06-library',
    title: '[FO-06] library: mergeWorkers requires a concurrency; with 2, never more than two jobs exist at once',
    source: { marbles: '(abcdefgh|)' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: 'mergeWorkers(job, { concurrency: 2 })',
    context: () => ({ active: 0, maxActive: 0 }),
    operator: ({ inner, context }) =>
      mergeWorkers(
        (v: string) =>
          defer(() => {
            context.maxActive = Math.max(context.maxActive, ++context.active);
            return inner.job.pipe(
              map(() => upper(v)),
              tap({ complete: () => context.active-- }),
            );
          }),
        { concurrency: 2 },
      ),
    expected: { marbles: '----(AB)(CD)(EF)(GH|)' },
    verify: ({ context, expect }) => {
      expect(context.maxActive).toBe(2);
    },
  }),

  // ---- FO-07 Race on a shared result map -------------------------------------------------------
  defineCase({
    id: 'fm-fo-07-naive',
    title: '[FO-07] naive: concurrent workers update a shared count map across an await, and two counts of a are lost',
    description:
      'No concurrent map writes on one event loop, but the same lost update: a worker reads counts[w], ' +
      'awaits its job, then writes the stale value + 1. a is seen three times and counted once.',
    source: { marbles: 'abaa|' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: 'mergeMap(w => { const n = counts[w] ?? 0; return job.pipe(finalize(() => counts[w] = n + 1)) }, 4)',
    context: (): { counts: Counts } => ({ counts: {} }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      concat(
        source$.pipe(
          mergeMap(
            (w) =>
              defer(() => {
                const n = context.counts[w] ?? 0;
                return inner.job.pipe(tap({ complete: () => (context.counts[w] = n + 1) }));
              }),
            4,
          ),
          ignoreElements(),
        ),
        defer(() => of({ ...context.counts })),
      ),
    expected: { marbles: '-------(m|)', values: { m: { a: 1, b: 1 } } },
  }),
  defineCase({
    id: 'fm-fo-07-library',
    title: '[FO-07] library: each worker counts its own fresh batch and returns it; one reduce merges the partial maps',
    description:
      'batchFresh hands each worker a new array it alone owns; the worker builds a private map and returns ' +
      'it, and the single subscriber downstream merges them. Nothing is shared, nothing is lost.',
    source: { marbles: 'abaa|' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: 'batchFresh({ size: 2 }) → mergeWorkers(batch => count(batch), { concurrency: 2 }) → reduce(merge)',
    pipeline: (source$: Observable<string>, { inner }) =>
      source$.pipe(
        batchFresh<string>({ size: 2 }),
        mergeWorkers((batch: string[]) => inner.job.pipe(map(() => countWords(batch))), { concurrency: 2 }),
        reduce(mergeCounts, {} as Counts),
      ),
    expected: { marbles: '-------(m|)', values: { m: { a: 3, b: 1 } } },
  }),

  // ---- FO-08 Double-close on the result channel ----------------------------------------------
  defineCase({
    id: 'fm-fo-08-naive',
    title:
      '[FO-08] naive: every worker subscribes its job to the shared output Subject, so the first to finish completes it',
    description:
      'job.subscribe(out) forwards complete as well as next. a finishes at 2 and completes out; b and c ' +
      'produce their results later into a stopped Subject, silently (Go would panic on the send).',
    source: { marbles: 'abc|' },
    inner: { job: { marbles: '--(x|)' }, slow: { marbles: '----(x|)' } },
    operatorLabel: 'out = new Subject(); source.subscribe(v => work(v).subscribe(out))',
    context: () => ({ produced: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      new Observable<string>((subscriber) => {
        const out = new Subject<string>();
        const subscription = out.subscribe(subscriber);
        source$.subscribe((v) =>
          (v === 'a' ? inner.job : inner.slow)
            .pipe(
              map(() => upper(v)),
              tap((r) => context.produced.push(r)),
            )
            .subscribe(out),
        );
        return subscription;
      }),
    expected: { marbles: '--(A|)' },
    subscriptions: { source: '^--!', inner: { job: '^-!', slow: ['-^---!', '--^---!'] } },
    verify: ({ context, expect }) => {
      expect(context.produced).toEqual(['A', 'B', 'C']);
    },
  }),
  defineCase({
    id: 'fm-fo-08-library',
    title:
      '[FO-08] library: workers only return results; the pool alone completes the output, once, after the last one',
    source: { marbles: 'abc|' },
    inner: { job: { marbles: '--(x|)' }, slow: { marbles: '----(x|)' } },
    operatorLabel: 'mergeWorkers(v => v === "a" ? job : slow, { concurrency: 3 })',
    operator: ({ inner }) =>
      mergeWorkers((v: string) => (v === 'a' ? inner.job : inner.slow).pipe(map(() => upper(v))), { concurrency: 3 }),
    expected: { marbles: '--A--B(C|)' },
    subscriptions: { source: '^--!', inner: { job: '^-!', slow: ['-^---!', '--^---!'] } },
  }),

  // ---- FO-09 Ordering assumed but not preserved ------------------------------------------------
  defineCase({
    id: 'fm-fo-09-naive',
    title: '[FO-09] naive: mergeMap emits results in finishing order, so results[i] is not the result of input i',
    source: { marbles: 'abc|' },
    inner: { slow: { marbles: '-----(x|)' }, mid: { marbles: '---(x|)' }, fast: { marbles: '-(x|)' } },
    operatorLabel: 'mergeMap(v => v === "a" ? slow : v === "b" ? mid : fast, 3)',
    pipeline: (source$: Observable<string>, { inner }) =>
      source$.pipe(
        mergeMap((v) => (v === 'a' ? inner.slow : v === 'b' ? inner.mid : inner.fast).pipe(map(() => upper(v))), 3),
      ),
    expected: { marbles: '---CB(A|)' },
  }),
  defineCase({
    id: 'fm-fo-09-library',
    title: '[FO-09] library: orderedMerge runs the same jobs concurrently and emits the results in input order',
    source: { marbles: 'abc|' },
    inner: { slow: { marbles: '-----(x|)' }, mid: { marbles: '---(x|)' }, fast: { marbles: '-(x|)' } },
    operatorLabel: 'orderedMerge(v => v === "a" ? slow : v === "b" ? mid : fast, { concurrency: 3 })',
    operator: ({ inner }) =>
      orderedMerge(
        (v: string) => (v === 'a' ? inner.slow : v === 'b' ? inner.mid : inner.fast).pipe(map(() => upper(v))),
        { concurrency: 3 },
      ),
    expected: { marbles: '-----(ABC|)' },
    subscriptions: { inner: { slow: '^----!', mid: '-^--!', fast: '--^!' } },
  }),

  // ---- FO-10 Cancellation ignored inside the worker --------------------------------------------
  defineCase({
    id: 'fm-fo-10-naive',
    title: '[FO-10] naive: a deadline that only unsubscribes; the multi-step worker never looks and runs steps 2 and 3',
    description:
      'The worker does three steps of three frames. takeUntil(timer(5)) ends the output at 5, but the ' +
      'worker (an async function with no signal) goes on with steps 2 and 3 until 9.',
    source: { marbles: 'a', kind: 'hot' },
    inner: { step: { marbles: '---|' } },
    operatorLabel: 'mergeMap(v => from(work(v)), 2) → takeUntil(timer(5))',
    context: () => ({ steps: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context, scheduler }) =>
      source$.pipe(
        mergeMap(
          (v) =>
            stepped(
              inner.step,
              3,
              (i) => context.steps.push(at(scheduler, `${v}${i}`)),
              () => upper(v),
            ),
          2,
        ),
        takeUntil(timer(5, scheduler)),
      ),
    expected: { marbles: '-----|' },
    subscriptions: { inner: { step: ['^--!', '---^--!', '------^--!'] } },
    verify: ({ context, expect }) => {
      expect(context.steps).toEqual(['3a1', '6a2', '9a3']);
    },
  }),
  defineCase({
    id: 'fm-fo-10-library',
    title:
      "[FO-10] library: at the drain deadline the worker's signal aborts with reason 'deadline'; it stops mid-step",
    description:
      'The same worker, given the signal: it checks it between steps and drops the running step on abort. ' +
      'The stop at 1 starts the drain; the deadline at 5 aborts a, and the report says so.',
    source: { marbles: 'a', kind: 'hot' },
    inner: { step: { marbles: '---|' } },
    operatorLabel: "drainOnComplete(mergeWorkers((v, { signal }) => work(v, signal), 2), { stop: '-s', deadline: 4 })",
    context: () => ({ steps: [] as string[], signals: [] as AbortSignal[], reports: [] as DrainReport[] }),
    operator: ({ inner, context, scheduler, hot }) =>
      drainOnComplete(
        mergeWorkers(
          (v: string, { signal }) => {
            context.signals.push(signal);
            return stepped(
              inner.step,
              3,
              (i) => context.steps.push(at(scheduler, `${v}${i}`)),
              () => upper(v),
              signal,
            );
          },
          { concurrency: 2 },
        ),
        { stop: hot('-s'), deadline: 4, scheduler, onReport: (r) => context.reports.push(r) },
      ),
    expected: { marbles: '-----|' },
    subscriptions: { inner: { step: ['^--!', '---^-!'] } },
    verify: ({ context, expect }) => {
      expect(context.steps).toEqual(['3a1']);
      expect(context.signals.map(cancelReason)).toEqual(['deadline']);
      expect(context.reports).toMatchObject([{ outcome: 'deadline', accepted: 1, aborted: 1 }]);
    },
  }),

  // ---- FO-11 Producer panics, workers wait forever ---------------------------------------------
  defineCase({
    id: 'fm-fo-11-naive',
    title: '[FO-11] naive: the producer fails, its error is only logged, the jobs Subject is never completed: a hang',
    description:
      'The producer errors at 2 (the panic). The glue code logs the error and forgets to end the jobs ' +
      'stream, so the pool finishes a and b and then waits for ever; no error, no completion.',
    source: { marbles: 'ab#', error: new Error('bad input') },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: 'source.subscribe({ next: v => jobs.next(v), error: log }); jobs → mergeMap(job, 2)',
    context: () => ({ logged: [] as unknown[] }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      new Observable<string>((subscriber) => {
        const jobs = new Subject<string>();
        const subscription = jobs.pipe(mergeMap((v) => inner.job.pipe(map(() => upper(v))), 2)).subscribe(subscriber);
        subscription.add(
          source$.subscribe({
            next: (v) => jobs.next(v),
            error: (err: unknown) => context.logged.push(err), // "recovered" at the edge; jobs never ends
          }),
        );
        return subscription;
      }),
    expected: { marbles: '---AB' },
    subscriptions: { source: '^-!', inner: { job: ['^--!', '-^--!'] } },
    verify: ({ context, expect }) => {
      expect(context.logged).toEqual([new Error('bad input')]);
    },
  }),
  defineCase({
    id: 'fm-fo-11-library',
    title:
      "[FO-11] library: the source's error reaches the pool, which aborts the running work ('source-failed') and fails",
    source: { marbles: 'ab#', error: new Error('bad input') },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: 'mergeWorkers(job, { concurrency: 2 })',
    context: () => ({ signals: [] as AbortSignal[] }),
    operator: ({ inner, context }) =>
      mergeWorkers(
        (v: string, { signal }) => {
          context.signals.push(signal);
          return inner.job.pipe(map(() => upper(v)));
        },
        { concurrency: 2 },
      ),
    expected: { marbles: '--#', error: new Error('bad input') },
    subscriptions: { source: '^-!', inner: { job: ['^-!', '-^!'] } },
    verify: ({ context, expect }) => {
      expect(context.signals.map(cancelReason)).toEqual(['source-failed', 'source-failed']);
    },
  }),

  // ---- FO-12 Per-worker buffers causing false sharing --------------------------------------------
  defineCase({
    id: 'fm-fo-12-naive',
    title:
      '[FO-12] naive: concurrent workers share one scratch buffer across an await, and every result reads the last write',
    description:
      'There is no false sharing on one event loop (no parallel cores touching one cache line). The nearest ' +
      'real hazard is per-worker state that is in fact shared: each worker copies its value into a module-level ' +
      'scratch buffer, awaits, and reads it back, by then overwritten by c.',
    source: { marbles: 'abc|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: 'mergeMap(v => { scratch.payload = v; return job.pipe(map(() => scratch.payload)) }, 3)',
    pipeline: (source$: Observable<string>, { inner }) =>
      defer(() => {
        const scratch = { payload: '' };
        return source$.pipe(
          mergeMap((v) => {
            scratch.payload = v;
            return inner.job.pipe(map(() => upper(scratch.payload)));
          }, 3),
        );
      }),
    expected: { marbles: '---CC(C|)' },
  }),
  defineCase({
    id: 'fm-fo-12-library',
    title: "[FO-12] library: each call's state lives in the worker's own scope (and its WorkContext), never shared",
    description:
      'The fix is the seed’s stack-local buffer: state allocated per call. For CPU-bound work, run it on ' +
      'worker threads (own heap per thread) and terminate them on the signal; see the test file.',
    source: { marbles: 'abc|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: 'mergeWorkers((v, { index }) => { const scratch = { payload: v }; ... }, { concurrency: 3 })',
    context: () => ({ indexes: [] as number[] }),
    operator: ({ inner, context }) =>
      mergeWorkers(
        (v: string, { index }) => {
          const scratch = { payload: v, index };
          context.indexes.push(scratch.index);
          return inner.job.pipe(map(() => upper(scratch.payload)));
        },
        { concurrency: 3 },
      ),
    expected: { marbles: '---AB(C|)' },
    verify: ({ context, expect }) => {
      expect(context.indexes).toEqual([0, 1, 2]);
    },
  }),

  // ---- FO-13 Closing the input from inside a worker ---------------------------------------------
  defineCase({
    id: 'fm-fo-13-naive',
    title: '[FO-13] naive: a worker aborts by completing the input Subject; the producer is never told and sends on',
    description:
      'c is the poison value: its worker completes the jobs Subject to stop everything. The output ends, ' +
      'but the producer (hot, endless) stays subscribed, and d to g go into a stopped Subject, unseen.',
    source: { marbles: 'abcdefg', kind: 'hot' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'mergeMap(v => { if (v === "c") jobs.complete(); return job }, 2)',
    context: () => ({ inputClosed: false, sentAfterClose: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      new Observable<string>((subscriber) => {
        const jobs = new Subject<string>();
        const subscription = jobs
          .pipe(
            mergeMap((v) => {
              if (v === 'c') {
                context.inputClosed = true;
                jobs.complete(); // the abort hack
                return EMPTY;
              }
              return inner.job.pipe(map(() => upper(v)));
            }, 2),
          )
          .subscribe(subscriber);
        // The producer's lifetime is its own: nothing ties it to the pool.
        source$.subscribe((v) => {
          if (context.inputClosed) context.sentAfterClose.push(v);
          jobs.next(v);
        });
        return subscription;
      }),
    expected: { marbles: '--A(B|)' },
    subscriptions: { source: '^' },
    verify: ({ context, expect }) => {
      expect(context.sentAfterClose).toEqual(['d', 'e', 'f', 'g']);
    },
  }),
  defineCase({
    id: 'fm-fo-13-library',
    title:
      '[FO-13] library: the worker returns a stop result and takeWhile cancels; the source is unsubscribed, siblings aborted',
    description:
      'No one closes a stream they do not own: the stop travels as cancellation. At 4 takeWhile sees STOP, the ' +
      "producer's subscription ends and d, still running, is aborted with reason 'unsubscribed'.",
    source: { marbles: 'abcdefg', kind: 'hot' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel:
      'mergeWorkers(v => v === "c" ? job.pipe(map(() => STOP)) : job, { concurrency: 2 }) → takeWhile(r => r !== STOP)',
    context: () => ({ signals: new Map<string, AbortSignal>() }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        mergeWorkers(
          (v: string, { signal }) => {
            context.signals.set(v, signal);
            return inner.job.pipe(map(() => (v === 'c' ? 'STOP' : upper(v))));
          },
          { concurrency: 2 },
        ),
        takeWhile((r) => r !== 'STOP'),
      ),
    expected: { marbles: '--AB|' },
    subscriptions: { source: '^---!', inner: { job: ['^-!', '-^-!', '--^-!', '---^!'] } },
    verify: ({ context, expect }) => {
      expect(cancelReason(context.signals.get('d'))).toBe('unsubscribed');
      expect([...context.signals.keys()]).toEqual(['a', 'b', 'c', 'd']);
    },
    diagram: { frameWidth: 40 },
  }),
]);
