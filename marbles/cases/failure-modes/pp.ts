import {
  EMPTY,
  Observable,
  Subject,
  concat,
  concatMap,
  defer,
  from,
  fromEvent,
  ignoreElements,
  map,
  merge,
  mergeMap,
  switchMap,
  take,
  takeUntil,
  tap,
  timer,
  toArray,
  catchError,
  type MonoTypeOperatorFunction,
  type OperatorFunction,
} from 'rxjs';
import {
  batchFresh,
  channel,
  drainOnComplete,
  fromPull,
  mergeWorkers,
  workerMonitor,
  type DrainReport,
} from '../../../index.js';
import { defineCase, defineCases } from '../../case.js';
import { pullEvery, upper, sub } from '../../testing.js';

/*
 * Failure modes of seeds/000 ("Push-Pull, find the bug"), each as a pair: the naive RxJS
 * pipeline's failure pinned with marbles and counters, and the library pipeline that prevents
 * it. A worker's job is an inner cold observable (`job`, `slow`, ...) whose length is the time
 * the work takes; `context` holds the counters that `verify` asserts after the run.
 */

/** Counts values read from a producer and values whose work started; `maxHeld` is the peak in between. */
interface Held {
  read: number;
  started: number;
  maxHeld: number;
}

const held = (): Held => ({ read: 0, started: 0, maxHeld: 0 });

/** An iterable over `values` that counts what was read from it: a producer that can be paused. */
function reader(values: readonly string[], stats: Held): Iterable<string> {
  return {
    *[Symbol.iterator]() {
      for (const value of values) {
        stats.read++;
        stats.maxHeld = Math.max(stats.maxHeld, stats.read - stats.started);
        yield value;
      }
    },
  };
}

/** A generator that reuses one object for every value it yields (the producer of PP-07). */
function* reusingOneObject(values: readonly string[]): Generator<{ id: string }> {
  const job = { id: '' };
  for (const value of values) {
    job.id = value;
    yield job;
  }
}

/**
 * A hand-written batching operator that reuses its array after emitting it, the RxJS twin of
 * `batch = batch[:0]` (PP-08). Kept here, not in the library: it is the bug.
 */
function reusedBatches<T>(size: number): OperatorFunction<T, T[]> {
  return (source) =>
    new Observable<T[]>((subscriber) => {
      const batch: T[] = [];
      return source.subscribe({
        next(value) {
          batch.push(value);
          if (batch.length === size) {
            subscriber.next(batch);
            batch.length = 0; // BUG: the consumer still holds this array
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

/** A hand-written map stage that forgets to return its upstream subscription (PP-10). */
function leakyMap<T, R>(project: (value: T) => R, counter: { calls: number }): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      source.subscribe({
        next(value) {
          counter.calls++;
          subscriber.next(project(value));
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      // BUG: no `return` of that subscription, so unsubscribing downstream never reaches upstream
    });
}

/** Sends a failed value back into the input (PP-11's cycle) and ends this attempt. */
function catchErrorInto<T>(retries: Subject<string>, value: string): MonoTypeOperatorFunction<T> {
  return catchError(() => {
    retries.next(value);
    return EMPTY;
  });
}

/** How many times x is tried before the naive PP-11 case stops watching at frame 20. */
const ATTEMPTS_BY_FRAME_20 = 18;

const batchLabel = (batch: readonly string[]): string => `[${batch.join(',')}]`;

export const ppCases = defineCases('failure modes PP', [
  // ---- PP-01 Consumer closes the channel ---------------------------------------------------
  defineCase({
    id: 'fm-pp-01-naive',
    title: '[PP-01] naive: a reader completes the Subject it reads from; later sends vanish without an error',
    description:
      'Reader 1 takes two values and completes the shared Subject. The producer keeps calling next(), which a ' +
      'stopped Subject ignores: c and d are lost and nobody is told. Reader 2 completes at once.',
    source: { marbles: 'a-b-c-d-|' },
    operatorLabel: 'Subject as channel; reader 1: take(2) then subject.complete(); then reader 2',
    context: () => ({ sent: [] as string[], received: [] as string[] }),
    pipeline: (source$: Observable<string>, { context }) =>
      defer(() => {
        const jobs = new Subject<string>();
        const readers = concat(
          jobs.pipe(
            take(2),
            tap({ complete: () => jobs.complete() }), // BUG: the reader closes the channel
          ),
          jobs,
        ).pipe(tap((v) => context.received.push(v)));
        const producer = source$.pipe(
          tap({
            next: (v) => {
              context.sent.push(v);
              jobs.next(v); // no error and no effect once the Subject is stopped
            },
            complete: () => jobs.complete(),
          }),
          ignoreElements(),
        );
        return merge(readers, producer);
      }),
    expected: { marbles: 'a-b-----|' },
    subscriptions: { source: '^-------!' },
    verify: ({ context, expect }) => {
      expect(context.sent).toEqual(['a', 'b', 'c', 'd']);
      expect(context.received).toEqual(['a', 'b']);
    },
  }),

  defineCase({
    id: 'fm-pp-01-library',
    title: '[PP-01] library: a channel reader can only leave, not close; the next reader gets the rest',
    description:
      'channel().observable has no close: reader 1 unsubscribes after two values, the channel keeps accepting, ' +
      'and reader 2 gets c and d. Only the producer closes (on its completion), and then every reader completes.',
    source: { marbles: 'a-b-c-d-|' },
    operatorLabel: 'channel({ capacity: 4 }); reader 1: observable → take(2); then reader 2: observable',
    context: () => ({ accepted: [] as boolean[] }),
    pipeline: (source$: Observable<string>, { context }) =>
      defer(() => {
        const jobs = channel<string>({ capacity: 4 });
        const readers = concat(jobs.observable.pipe(take(2)), jobs.observable);
        const producer = source$.pipe(
          tap({ next: (v) => context.accepted.push(jobs.trySend(v)), complete: () => jobs.close() }),
          ignoreElements(),
        );
        return merge(readers, producer);
      }),
    expected: { marbles: 'a-b-c-d-|' },
    subscriptions: { source: '^-------!' },
    verify: ({ context, expect }) => {
      expect(context.accepted).toEqual([true, true, true, true]);
    },
  }),

  // ---- PP-02 wg.Wait() before close ----------------------------------------------------------
  defineCase({
    id: 'fm-pp-02-naive',
    title: '[PP-02] naive: toArray waits for a Subject that is completed only after the wait; it never emits',
    description:
      'concat(results.pipe(toArray()), close) is `wg.Wait(); close(jobs)`: every value is worked, but the ' +
      'results never complete, because the completion they wait for comes after them.',
    source: { marbles: 'abc|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'jobs = Subject; concat(jobs → mergeMap(job, 2) → toArray(), defer(() => jobs.complete()))',
    context: () => ({ worked: 0 }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      defer(() => {
        const jobs = new Subject<string>();
        const producer = source$.pipe(
          tap((v) => jobs.next(v)),
          ignoreElements(),
        );
        const results = jobs.pipe(
          mergeMap(
            (v) =>
              inner.job.pipe(
                map(() => upper(v)),
                tap(() => context.worked++),
              ),
            2,
          ),
          toArray(),
        );
        const close = defer(() => {
          jobs.complete(); // never reached: concat waits for `results` first
          return EMPTY;
        });
        return merge(producer, concat(results, close));
      }),
    expected: { marbles: '--------' },
    subscriptions: { source: '^--!', inner: { job: ['^-!', '-^-!', '--^-!'] } },
    verify: ({ context, expect }) => {
      expect(context.worked).toBe(3);
    },
  }),

  defineCase({
    id: 'fm-pp-02-library',
    title: '[PP-02] library: the producer closes the channel as soon as it is done; the pool drains, then completes',
    description:
      'close() first, then wait: values already sent still reach the workers, and mergeWorkers completes only ' +
      'after the source has completed and every accepted value was worked.',
    source: { marbles: 'abc|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'channel: trySend each, close() on complete; observable → mergeWorkers(job, 2) → toArray()',
    pipeline: (source$: Observable<string>, { inner }) =>
      defer(() => {
        const jobs = channel<string>({ capacity: 4 });
        const producer = source$.pipe(
          tap({ next: (v) => jobs.trySend(v), complete: () => jobs.close() }),
          ignoreElements(),
        );
        const results = jobs.observable.pipe(
          mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 2 }),
          toArray(),
        );
        return merge(producer, results);
      }),
    expected: { marbles: '----(x|)', values: { x: ['A', 'B', 'C'] } },
    subscriptions: { source: '^--!', inner: { job: ['^-!', '-^-!', '--^-!'] } },
  }),

  // ---- PP-03 Fan-in closed by a worker -------------------------------------------------------
  defineCase({
    id: 'fm-pp-03-naive',
    title: '[PP-03] naive: each worker subscribes the shared results Subject; the first to finish completes it',
    description:
      'inner.subscribe(results) forwards completion too: b finishes first and completes `results`, which ends ' +
      'the output; a and c were accepted, and their results never arrive.',
    source: { marbles: 'abc|' },
    inner: { fast: { marbles: '-(x|)' }, slow: { marbles: '----(x|)' } },
    operatorLabel: 'source.subscribe(v => work(v).subscribe(results)), b fast, a and c slow',
    context: () => ({ pushed: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      new Observable<string>((subscriber) => {
        const results = new Subject<string>();
        const subscription = results.subscribe(subscriber);
        subscription.add(
          source$.subscribe((v) => {
            const work = (v === 'b' ? inner.fast : inner.slow).pipe(
              map(() => upper(v)),
              tap((r) => context.pushed.push(r)),
            );
            subscription.add(work.subscribe(results)); // BUG: forwards the worker's completion
          }),
        );
        return subscription;
      }),
    expected: { marbles: '--(B|)' },
    subscriptions: { source: '^-!', inner: { fast: '-^!', slow: ['^-!', '--(^!)'] } },
    verify: ({ context, expect }) => {
      expect(context.pushed).toEqual(['B']);
    },
  }),

  defineCase({
    id: 'fm-pp-03-library',
    title: '[PP-03] library: mergeWorkers owns the fan-in and completes once, after the last worker',
    source: { marbles: 'abc|' },
    inner: { fast: { marbles: '-(x|)' }, slow: { marbles: '----(x|)' } },
    operatorLabel: 'mergeWorkers(v => v === "b" ? fast : slow, { concurrency: 3 })',
    operator: ({ inner }) =>
      mergeWorkers((v: string) => (v === 'b' ? inner.fast : inner.slow).pipe(map(() => upper(v))), {
        concurrency: 3,
      }),
    expected: { marbles: '--B-A-(C|)' },
    subscriptions: { source: '^--!', inner: { fast: '-^!', slow: ['^---!', '--^---!'] } },
  }),

  // ---- PP-04 Unbounded queue OOM -------------------------------------------------------------
  defineCase({
    id: 'fm-pp-04-naive',
    title: '[PP-04] naive: from(reader) → mergeMap(job, 2) reads every value at once and holds all but two',
    description:
      'mergeMap cannot pause its source: the whole input is read at once and waits in its internal array. ' +
      'The output looks fine; memory grows with the input (6 of 8 held here, 99,996 of 100,000 in the test file).',
    source: { marbles: '(abcdefgh|)' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: 'from(reader(input)) → mergeMap(job, 2)',
    context: held,
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        toArray(),
        mergeMap((values) => from(reader(values, context))),
        mergeMap((v) => {
          context.started++;
          return inner.job.pipe(map(() => upper(v)));
        }, 2),
      ),
    expected: { marbles: '----(AB)(CD)(EF)(GH|)' },
    subscriptions: { inner: { job: [0, 0, 4, 4, 8, 8, 12, 12].map((f) => sub(f, 4)) } },
    verify: ({ context, expect }) => {
      expect(context).toEqual({ read: 8, started: 8, maxHeld: 6 });
    },
    diagram: { frameWidth: 30, sourceTitle: 'input' },
  }),

  defineCase({
    id: 'fm-pp-04-library',
    title: '[PP-04] library: fromPull(reader) → mergeWorkers(job, 2) reads a value only when a worker is free',
    description:
      'The same input and output, but the reader is paused: a value is read only for a free worker, so nothing ' +
      'waits in memory whatever the input size.',
    source: { marbles: '(abcdefgh|)' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: 'fromPull(reader(input)) → mergeWorkers(job, { concurrency: 2 })',
    context: held,
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        toArray(),
        mergeMap((values) =>
          fromPull(reader(values, context)).pipe(
            mergeWorkers(
              (v: string) => {
                context.started++;
                return inner.job.pipe(map(() => upper(v)));
              },
              { concurrency: 2 },
            ),
          ),
        ),
      ),
    expected: { marbles: '----(AB)(CD)(EF)(GH|)' },
    subscriptions: { inner: { job: [0, 0, 4, 4, 8, 8, 12, 12].map((f) => sub(f, 4)) } },
    verify: ({ context, expect }) => {
      expect(context).toEqual({ read: 8, started: 8, maxHeld: 1 });
    },
    diagram: { frameWidth: 30, sourceTitle: 'input' },
  }),
  // ---- PP-05 Blocked producer leak on cancel -------------------------------------------------
  defineCase({
    id: 'fm-pp-05-naive',
    title: '[PP-05] naive: the reader stops, and sends waiting on a full channel without a signal stay parked for ever',
    description:
      'The producer sends every tick (capacity 1) and never hears that the reader left: it keeps sending, and ' +
      'each send that finds the channel full is a promise that will never settle.',
    source: { marbles: 'abcdef' },
    operatorLabel: 'producer: send(v); reader: channel({ capacity: 1 }).observable → pullEvery(3) → take(2)',
    context: () => ({ jobs: channel<string>({ capacity: 1 }) }),
    pipeline: (source$: Observable<string>, { context, scheduler }) => {
      const { jobs } = context;
      const producer = source$.pipe(
        tap((v) => void jobs.send(v)), // BUG: nothing can withdraw this send
        ignoreElements(),
      );
      return merge(jobs.observable.pipe(pullEvery(3, scheduler), take(2)), producer);
    },
    expected: { marbles: 'a--b--' },
    subscriptions: { source: '^' },
    verify: ({ context, expect }) => {
      expect(context.jobs.pendingSends).toBe(3);
    },
    diagram: { sourceTitle: 'producer' },
  }),

  defineCase({
    id: 'fm-pp-05-library',
    title: '[PP-05] library: sends carry an AbortSignal; when the reader stops, waiting sends are withdrawn',
    description:
      'The reader aborts the controller when it is done. The producer stops at once, and the send still waiting ' +
      'rejects with the abort reason, so no producer is left parked.',
    source: { marbles: 'abcdef' },
    operatorLabel:
      'producer: send(v, { signal }) until abort; reader: observable → pullEvery(3) → take(2) → finalize(abort)',
    context: () => ({ jobs: channel<string>({ capacity: 1 }), controller: new AbortController() }),
    pipeline: (source$: Observable<string>, { context, scheduler }) => {
      const { jobs, controller } = context;
      const { signal } = controller;
      const producer = source$.pipe(
        takeUntil(fromEvent(signal, 'abort')),
        tap((v) => void jobs.send(v, { signal }).catch(() => undefined)), // rejected when the reader stops
        ignoreElements(),
      );
      const reader = jobs.observable.pipe(
        pullEvery(3, scheduler),
        take(2),
        tap({ finalize: () => controller.abort(new Error('reader stopped')) }),
      );
      return merge(reader, producer);
    },
    expected: { marbles: 'a--(b|)' },
    subscriptions: { source: '^--!' },
    verify: ({ context, expect }) => {
      expect(context.jobs.pendingSends).toBe(0);
      expect(context.controller.signal.aborted).toBe(true);
    },
    diagram: { sourceTitle: 'producer' },
  }),

  // ---- PP-06 Lost work on shutdown -----------------------------------------------------------
  defineCase({
    id: 'fm-pp-06-naive',
    title: '[PP-06] naive: takeUntil(shutdown) after mergeMap aborts running work and drops the queued value',
    description: 'Meant as a drain, this is an abort: a and b are cut off mid-work and c never starts.',
    source: { marbles: 'abcd', kind: 'hot' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: "mergeMap(job, 2) → takeUntil(shutdown: '--s')",
    context: () => ({ accepted: 0, finished: 0 }),
    pipeline: (source$: Observable<string>, { inner, hot, context }) =>
      source$.pipe(
        tap(() => context.accepted++),
        mergeMap(
          (v) =>
            inner.job.pipe(
              map(() => upper(v)),
              tap({ complete: () => context.finished++ }),
            ),
          2,
        ),
        takeUntil(hot('--s')),
      ),
    expected: { marbles: '--|' },
    subscriptions: { source: '^-!', inner: { job: ['^-!', '-^!'] } },
    verify: ({ context, expect }) => {
      expect(context).toEqual({ accepted: 3, finished: 0 });
    },
  }),

  defineCase({
    id: 'fm-pp-06-library',
    title: '[PP-06] library: drainOnComplete stops taking values on shutdown and finishes everything accepted',
    source: { marbles: 'abcd', kind: 'hot' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: "drainOnComplete(mergeWorkers(job, 2), { stop: '--s', deadline: 20 })",
    context: () => ({ reports: [] as DrainReport[] }),
    operator: ({ inner, hot, scheduler, context }) =>
      drainOnComplete(
        mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 2 }),
        {
          stop: hot('--s'),
          deadline: 20,
          scheduler,
          onReport: (r) => context.reports.push(r),
        },
      ),
    expected: { marbles: '----AB--(C|)' },
    subscriptions: { source: '^-!', inner: { job: ['^---!', '-^---!', '----^---!'] } },
    verify: ({ context, expect }) => {
      expect(context.reports).toEqual([
        {
          outcome: 'drained',
          accepted: 3,
          completed: 3,
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

  // ---- PP-07 Mutating a pushed item ----------------------------------------------------------
  defineCase({
    id: 'fm-pp-07-naive',
    title: '[PP-07] naive: a producer reuses one object; from() runs it ahead, so every worker reads the last value',
    description:
      'from(generator) reads the whole generator at once; it mutates the one object it yields, so by the time a ' +
      'worker reads job.id, it says c.',
    source: { marbles: '(abc|)' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: 'from(generator reusing one { id }) → mergeMap(job → job.id, 1)',
    pipeline: (source$: Observable<string>, { inner }) =>
      source$.pipe(
        toArray(),
        mergeMap((values) => from(reusingOneObject(values))),
        mergeMap((job) => inner.job.pipe(map(() => job.id)), 1),
      ),
    expected: { marbles: '---c--c--(c|)' },
    subscriptions: { inner: { job: [0, 3, 6].map((f) => sub(f, 3)) } },
    diagram: { sourceTitle: 'input' },
  }),

  defineCase({
    id: 'fm-pp-07-library',
    title: '[PP-07] library: fromPull resumes the producer only when a worker asks, after the last value was used',
    description:
      'The generator stays suspended at its yield until a worker is free, i.e. until the previous job has ' +
      'finished with the object: ownership passes back and forth instead of being shared.',
    source: { marbles: '(abc|)' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: 'fromPull(generator reusing one { id }) → mergeWorkers(job → job.id, { concurrency: 1 })',
    pipeline: (source$: Observable<string>, { inner }) =>
      source$.pipe(
        toArray(),
        mergeMap((values) =>
          fromPull(reusingOneObject(values)).pipe(
            mergeWorkers((job: { id: string }) => inner.job.pipe(map(() => job.id)), { concurrency: 1 }),
          ),
        ),
      ),
    expected: { marbles: '---a--b--(c|)' },
    subscriptions: { inner: { job: [0, 3, 6].map((f) => sub(f, 3)) } },
    diagram: { sourceTitle: 'input' },
  }),

  // ---- PP-08 Reused batch slice --------------------------------------------------------------
  defineCase({
    id: 'fm-pp-08-naive',
    title: '[PP-08] naive: a batching stage clears and refills the array it emitted; the writer reads it emptied',
    description:
      'The stage emits its array and then sets length = 0 to reuse it. The writer, which reads the batch when ' +
      'its write happens, finds it cleared (and meanwhile refilled with c, d, then cleared again).',
    source: { marbles: 'ab-cd-|' },
    inner: { write: { marbles: '---(x|)' } },
    operatorLabel: 'reusedBatches(2) (emits, then batch.length = 0) → mergeMap(write, 1)',
    pipeline: (source$: Observable<string>, { inner }) =>
      source$.pipe(
        reusedBatches(2),
        mergeMap((batch) => inner.write.pipe(map(() => batchLabel(batch))), 1),
      ),
    expected: { marbles: '----x--(y|)', values: { x: '[]', y: '[]' } },
  }),

  defineCase({
    id: 'fm-pp-08-library',
    title: '[PP-08] library: batchFresh emits a new array each time and never touches it again',
    source: { marbles: 'ab-cd-|' },
    inner: { write: { marbles: '---(x|)' } },
    operatorLabel: 'batchFresh({ size: 2 }) → mergeWorkers(write, { concurrency: 1 })',
    operator:
      ({ inner }) =>
      (source$) =>
        source$.pipe(
          batchFresh<string>({ size: 2 }),
          mergeWorkers((batch: string[]) => inner.write.pipe(map(() => batchLabel(batch))), { concurrency: 1 }),
        ),
    expected: { marbles: '----x--(y|)', values: { x: '[a,b]', y: '[c,d]' } },
  }),

  // ---- PP-09 Deadlock with no consumer -------------------------------------------------------
  defineCase({
    id: 'fm-pp-09-naive',
    title: '[PP-09] naive: a value pushed into a Subject before anyone reads is gone; the late reader waits for ever',
    description:
      'Go blocks the send; RxJS does the opposite and drops it, so the deadlock moves to the reader, who waits ' +
      'for a value that was already thrown away.',
    source: { marbles: 'a|' },
    operatorLabel: 'subject.next(a) at 0; reader subscribes at 2: subject → take(1)',
    pipeline: (source$: Observable<string>) =>
      defer(() => {
        const jobs = new Subject<string>();
        const producer = source$.pipe(
          tap((v) => jobs.next(v)),
          ignoreElements(),
        );
        const lateReader = timer(2).pipe(switchMap(() => jobs.pipe(take(1))));
        return merge(producer, lateReader);
      }),
    expected: { marbles: '------' },
    subscriptions: { source: '^!' },
    diagram: { sourceTitle: 'producer' },
  }),

  defineCase({
    id: 'fm-pp-09-library',
    title: '[PP-09] library: a channel holds what was sent until a reader comes; it is delivered to the late reader',
    description:
      'trySend accepts a while there is room, and the value waits in the channel. A send beyond capacity would ' +
      'wait, and can be bounded with a signal (see the test file).',
    source: { marbles: 'a|' },
    operatorLabel: 'channel({ capacity: 1 }).trySend(a) at 0; reader subscribes at 2: observable → take(1)',
    pipeline: (source$: Observable<string>) =>
      defer(() => {
        const jobs = channel<string>({ capacity: 1 });
        const producer = source$.pipe(
          tap((v) => jobs.trySend(v)),
          ignoreElements(),
        );
        const lateReader = timer(2).pipe(switchMap(() => jobs.observable.pipe(take(1))));
        return merge(producer, lateReader);
      }),
    expected: { marbles: '--(a|)' },
    subscriptions: { source: '^!' },
    diagram: { sourceTitle: 'producer' },
  }),

  // ---- PP-10 Dropped context cancellation ----------------------------------------------------
  defineCase({
    id: 'fm-pp-10-naive',
    title: '[PP-10] naive: a hand-written stage drops its upstream subscription; take(2) never reaches the source',
    description:
      'The stage forgets to return the subscription it made. When take(2) unsubscribes, the source keeps ' +
      'emitting and the stage keeps transforming into the void, for as long as the source lives.',
    source: { marbles: 'a-b-c-d-e-f' },
    operatorLabel: 'leakyMap(toUpperCase) (no teardown) → take(2)',
    context: () => ({ calls: 0 }),
    pipeline: (source$: Observable<string>, { context }) => source$.pipe(leakyMap(upper, context), take(2)),
    expected: { marbles: 'A-(B|)' },
    subscriptions: { source: '^' },
    verify: ({ context, expect }) => {
      expect(context.calls).toBe(6);
    },
  }),

  defineCase({
    id: 'fm-pp-10-library',
    title: '[PP-10] library: cancellation crosses every library stage; the source is released with take(2)',
    source: { marbles: 'a-b-c-d-e-f' },
    inner: { job: { marbles: '(x|)' } },
    operatorLabel: 'mergeWorkers(toUpperCase, { concurrency: 1 }) → take(2)',
    context: () => ({ calls: 0 }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        mergeWorkers(
          (v: string) => {
            context.calls++;
            return inner.job.pipe(map(() => upper(v)));
          },
          { concurrency: 1 },
        ),
        take(2),
      ),
    expected: { marbles: 'A-(B|)' },
    subscriptions: { source: '^-!' },
    verify: ({ context, expect }) => {
      expect(context.calls).toBe(2);
    },
  }),

  // ---- PP-11 Pipeline cycle deadlock ---------------------------------------------------------
  defineCase({
    id: 'fm-pp-11-naive',
    title:
      '[PP-11] naive: failed values fed back into the input keep the pipeline open and a bad value cycles for ever',
    description:
      'merge(source, retries) can never complete, because retries is fed by its own output; x fails every time ' +
      'and goes round and round. The test stops watching at frame 20.',
    source: { marbles: 'ax-b|' },
    inner: { job: { marbles: '-(x|)' }, fail: { marbles: '-#' } },
    operatorLabel: 'merge(source, retries) → mergeMap(v => v === "x" ? fail : job, 1); on error: retries.next(v)',
    context: () => ({ attempts: 0 }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      defer(() => {
        const retries = new Subject<string>();
        return merge(source$, retries).pipe(
          mergeMap(
            (v) =>
              (v === 'x' ? inner.fail : inner.job).pipe(
                map(() => upper(v)),
                tap({ subscribe: () => (v === 'x' ? context.attempts++ : undefined) }),
                catchErrorInto(retries, v),
              ),
            1,
          ),
        );
      }),
    unsubscribe: '--------------------!',
    expected: { marbles: '-A--B' },
    verify: ({ context, expect }) => {
      expect(context.attempts).toBe(ATTEMPTS_BY_FRAME_20);
    },
  }),

  defineCase({
    id: 'fm-pp-11-library',
    title: '[PP-11] library: retries stay inside the worker slot, bounded and backed off; then the value is reported',
    description:
      'No cycle: a failed value is retried in place (twice, after 1 and 2 frames) while holding its slot, then ' +
      'given up and reported to onError; the pool goes on and completes.',
    source: { marbles: 'ax-b|' },
    inner: { job: { marbles: '-(x|)' }, fail: { marbles: '-#' } },
    operatorLabel:
      "mergeWorkers(v => v === 'x' ? fail : job, { concurrency: 1, retry: { count: 2, delay: 1 }, errors: 'continue' })",
    context: () => ({ attempts: 0, failed: [] as string[], monitor: workerMonitor() }),
    operator: ({ inner, scheduler, context }) =>
      mergeWorkers(
        (v: string) => {
          if (v === 'x') context.attempts++;
          return (v === 'x' ? inner.fail : inner.job).pipe(map(() => upper(v)));
        },
        {
          concurrency: 1,
          retry: { count: 2, delay: 1, jitter: 0 },
          scheduler,
          errors: 'continue',
          onError: (_err, v) => context.failed.push(v),
          monitor: context.monitor,
        },
      ),
    expected: { marbles: '-A------(B|)' },
    subscriptions: { inner: { fail: ['-^!', '---^!', '------^!'] } },
    verify: ({ context, expect }) => {
      expect(context.attempts).toBe(3);
      expect(context.failed).toEqual(['x']);
      expect(context.monitor.snapshot()).toMatchObject({ completed: 2, failed: 1, retried: 2 });
    },
  }),

  // ---- PP-12 Backpressure into the accept loop -----------------------------------------------
  defineCase({
    id: 'fm-pp-12-naive',
    title: '[PP-12] naive: concatMap in the request path answers each request only after all earlier ones',
    description:
      'Every request is accepted and held until its turn: the answer to f comes 13 frames after it arrived, ' +
      'and the number of requests waiting for an answer grows with the load.',
    source: { marbles: 'abcdef|', kind: 'hot' },
    inner: { work: { marbles: '---(x|)' } },
    operatorLabel: "concatMap(req => work → '202')",
    context: () => ({ waiting: 0, maxWaiting: 0 }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        tap(() => {
          context.waiting++;
          context.maxWaiting = Math.max(context.maxWaiting, context.waiting);
        }),
        concatMap(() =>
          inner.work.pipe(
            map(() => '202'),
            tap(() => context.waiting--),
          ),
        ),
      ),
    expected: { marbles: '---k--k--k--k--k--(k|)', values: { k: '202' } },
    subscriptions: { inner: { work: [0, 3, 6, 9, 12, 15].map((f) => sub(f, 3)) } },
    verify: ({ context, expect }) => {
      expect(context.maxWaiting).toBe(5);
    },
    diagram: { frameWidth: 30, sourceTitle: 'requests', outputTitle: 'responses' },
  }),

  defineCase({
    id: 'fm-pp-12-library',
    title: '[PP-12] library: the handler uses trySend and answers 503 at once when the channel is full',
    description:
      'One worker and room for one more job: a and b are accepted (202), c and d find the channel full and get ' +
      '503 at once, e is accepted once the worker took b. Nobody waits for an answer.',
    source: { marbles: 'abcdef|', kind: 'hot' },
    inner: { work: { marbles: '---(x|)' } },
    operatorLabel: "jobs.trySend(req) ? '202' : '503'; workers: jobs.observable → mergeWorkers(work, 1)",
    context: () => ({ worked: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      defer(() => {
        const jobs = channel<string>({ capacity: 1 });
        const workers = jobs.observable.pipe(
          mergeWorkers((v: string) => inner.work.pipe(tap({ complete: () => context.worked.push(v) })), {
            concurrency: 1,
          }),
          ignoreElements(),
        );
        const responses = source$.pipe(
          map((req) => (jobs.trySend(req) ? '202' : '503')),
          tap({ complete: () => jobs.close() }),
        );
        return merge(workers, responses);
      }),
    expected: { marbles: 'kkrrkr---|', values: { k: '202', r: '503' } },
    subscriptions: { inner: { work: [0, 3, 6].map((f) => sub(f, 3)) } },
    verify: ({ context, expect }) => {
      expect(context.worked).toEqual(['a', 'b', 'e']);
    },
    diagram: { sourceTitle: 'requests', outputTitle: 'responses' },
  }),
]);
