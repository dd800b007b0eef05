import {
  EMPTY,
  Observable,
  Subject,
  concat,
  concatMap,
  defer,
  filter,
  forkJoin,
  from,
  groupBy,
  ignoreElements,
  map,
  merge,
  mergeMap,
  of,
  reduce,
  take,
  takeUntil,
  tap,
  toArray,
  zip,
  type MonoTypeOperatorFunction,
} from 'rxjs';
import {
  CancelledError,
  DEMAND,
  boundedBuffer,
  bufferMonitor,
  channel,
  drainOnComplete,
  mergeWorkers,
  workerMonitor,
  type DemandObservable,
  type DrainReport,
} from '../../../index.js';
import { defineCase, defineCases } from '../../case.js';
import { upper, sub } from '../../testing.js';

/*
 * Failure modes of seeds/003 ("Push-Pull, middle level"): its anti-patterns and the properties
 * it asks of a shippable pipeline. Each naive case pins what plain RxJS does; each library case
 * shows the operator that prevents it. Inner cold observables stand for work of that length.
 */

/** Values that arrived and values whose work started; `maxHeld` is the peak in between. */
interface Held {
  arrived: number;
  started: number;
  maxHeld: number;
}

const held = (): Held => ({ arrived: 0, started: 0, maxHeld: 0 });

function arrive(h: Held): void {
  h.arrived++;
  h.maxHeld = Math.max(h.maxHeld, h.arrived - h.started);
}

/**
 * A demand-aware consumer that asks for one value per credit (ML-08): the consumer side of a
 * credit-based link, written against the public handshake (`DEMAND`) as any third party could.
 */
function pullOn<T>(credits: Observable<unknown>): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const protocol = (source as Partial<DemandObservable<T>>)[DEMAND];
      if (protocol === undefined) throw new TypeError('pullOn: the source is not demand-aware');
      const handle = protocol.subscribe({
        next: (value) => subscriber.next(value),
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      const credit = credits.subscribe(() => handle.request(1));
      return () => {
        credit.unsubscribe();
        handle.cancel();
      };
    });
}

/** A record parser that throws on a bad record (ML-09). */
function parseRecord(line: string): number {
  const n = Number(line);
  if (!Number.isInteger(n)) throw new Error(`bad record: ${line}`);
  return n;
}

export const mlCases = defineCases('failure modes ML', [
  // ---- ML-01 Unbounded queue "to avoid blocking the producer" -------------------------------
  defineCase({
    id: 'fm-ml-01-naive',
    title: '[ML-01] naive: mergeMap(job, 1) never pushes back, so a fast producer fills its hidden queue',
    description:
      'The producer is never blocked, and everything it sends waits inside mergeMap: 4 of 6 here, and the ' +
      'queue grows with the input for as long as the producer outruns the worker (see the test file).',
    source: { marbles: 'abcdef|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: 'mergeMap(job, 1)',
    context: held,
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        tap(() => arrive(context)),
        mergeMap((v) => {
          context.started++;
          return inner.job.pipe(map(() => upper(v)));
        }, 1),
      ),
    expected: { marbles: '---A--B--C--D--E--(F|)' },
    subscriptions: { inner: { job: [0, 3, 6, 9, 12, 15].map((f) => sub(f, 3)) } },
    verify: ({ context, expect }) => {
      expect(context).toEqual({ arrived: 6, started: 6, maxHeld: 4 });
    },
    diagram: { frameWidth: 30 },
  }),

  defineCase({
    id: 'fm-ml-01-library',
    title: '[ML-01] library: a bounded buffer with an explicit drop policy never blocks the producer and never grows',
    description:
      'The producer is still never blocked; at most two values wait, d and f are dropped, and every drop is ' +
      'counted in the monitor.',
    source: { marbles: 'abcdef|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: "boundedBuffer({ capacity: 2, overflow: 'drop-newest' }) → mergeWorkers(job, { concurrency: 1 })",
    context: () => ({ buffer: bufferMonitor(), dropped: [] as string[] }),
    operator:
      ({ inner, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer<string>({
            capacity: 2,
            overflow: 'drop-newest',
            monitor: context.buffer,
            onDrop: (v) => context.dropped.push(v),
          }),
          mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 1 }),
        ),
    expected: { marbles: '---A--B--C--(E|)' },
    subscriptions: { inner: { job: [0, 3, 6, 9].map((f) => sub(f, 3)) } },
    verify: ({ context, expect }) => {
      expect(context.dropped).toEqual(['d', 'f']);
      expect(context.buffer.snapshot()).toMatchObject({ received: 6, dropped: 2, highWater: 2 });
    },
  }),

  // ---- ML-02 Cancellation in the worker loop when drain was meant ----------------------------
  defineCase({
    id: 'fm-ml-02-naive',
    title: '[ML-02] naive: workers that check for shutdown skip the queued values and complete as if all went well',
    description:
      'Each worker ends its job on shutdown and skips any value it gets afterwards: a is cut off, b, c and d are ' +
      'skipped, and the output completes normally with no result and no error.',
    source: { marbles: 'abcd|', kind: 'hot' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: "mergeMap(v => stopping ? EMPTY : job → takeUntil(shutdown: '--s'), 1)",
    context: () => ({ accepted: 0, skipped: 0, results: 0 }),
    pipeline: (source$: Observable<string>, { inner, hot, context }) => {
      const shutdown = hot('--s');
      return defer(() => {
        let stopping = false;
        const watch = shutdown.pipe(
          tap(() => (stopping = true)),
          take(1),
          ignoreElements(),
        );
        const work = source$.pipe(
          tap(() => context.accepted++),
          mergeMap((v) => {
            if (stopping) {
              context.skipped++;
              return EMPTY; // BUG: meant as a drain, this drops the value silently
            }
            return inner.job.pipe(
              map(() => upper(v)),
              tap(() => context.results++),
              takeUntil(shutdown),
            );
          }, 1),
        );
        return merge(watch, work);
      });
    },
    expected: { marbles: '----|' },
    subscriptions: { inner: { job: '^-!' } },
    verify: ({ context, expect }) => {
      expect(context).toEqual({ accepted: 4, skipped: 3, results: 0 });
    },
  }),

  defineCase({
    id: 'fm-ml-02-library',
    title: '[ML-02] library: drainOnComplete finishes accepted work after a stop; what a deadline cuts off is reported',
    description:
      'The stop closes the intake (d is never taken). a finishes; at the deadline b is aborted and c was never ' +
      'started, and the report says exactly that instead of completing as if nothing was lost.',
    source: { marbles: 'abcd|', kind: 'hot' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: "drainOnComplete(mergeWorkers(job, 1), { stop: '--s', deadline: 5 })",
    context: () => ({ reports: [] as DrainReport[], signals: new Map<string, AbortSignal>() }),
    operator: ({ inner, hot, scheduler, context }) =>
      drainOnComplete(
        mergeWorkers(
          (v: string, { signal }) => {
            context.signals.set(v, signal);
            return inner.job.pipe(map(() => upper(v)));
          },
          { concurrency: 1 },
        ),
        { stop: hot('--s'), deadline: 5, scheduler, onReport: (r) => context.reports.push(r) },
      ),
    expected: { marbles: '----A--|' },
    subscriptions: { source: '^-!', inner: { job: ['^---!', '----^--!'] } },
    verify: ({ context, expect }) => {
      expect(context.reports).toMatchObject([
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
        },
      ]);
      const b = context.signals.get('b')!;
      expect(b.reason instanceof CancelledError && b.reason.reason).toBe('deadline');
    },
  }),

  // ---- ML-03 Waiting before closing ----------------------------------------------------------
  defineCase({
    id: 'fm-ml-03-naive',
    title: '[ML-03] naive: forkJoin waits for workers that end only when the jobs Subject completes, which comes after',
    description:
      'Two workers read a shared Subject; forkJoin (wg.Wait) needs both to complete, and jobs.complete() ' +
      '(close) is concatenated after it. All four values are worked; nothing is ever emitted.',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'concat(forkJoin([worker 0, worker 1]), defer(() => jobs.complete()))',
    context: () => ({ worked: 0 }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      defer(() => {
        const jobs = new Subject<string>();
        const feed = source$.pipe(
          tap((v) => jobs.next(v)),
          ignoreElements(),
        );
        const worker = (w: number): Observable<string[]> =>
          jobs.pipe(
            filter((_, i) => i % 2 === w),
            concatMap((v) => inner.job.pipe(map(() => upper(v)))),
            tap(() => context.worked++),
            toArray(),
          );
        const close = defer(() => {
          jobs.complete();
          return EMPTY;
        });
        return merge(feed, concat(forkJoin([worker(0), worker(1)]), close));
      }),
    expected: { marbles: '--------' },
    subscriptions: { source: '^---!' },
    verify: ({ context, expect }) => {
      expect(context.worked).toBe(4);
    },
  }),

  defineCase({
    id: 'fm-ml-03-library',
    title: '[ML-03] library: the stop is part of drainOnComplete, so the close cannot be ordered after the wait',
    description:
      'The source never completes. The stop closes the intake; the pool finishes a, b and c and completes, so ' +
      'toArray emits.',
    source: { marbles: 'abc' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: "drainOnComplete(mergeWorkers(job, 2), { stop: '---s', deadline: 10 }) → toArray()",
    context: () => ({ reports: [] as DrainReport[] }),
    pipeline: (source$: Observable<string>, { inner, hot, scheduler, context }) =>
      source$.pipe(
        drainOnComplete(
          mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 2 }),
          {
            stop: hot('---s'),
            deadline: 10,
            scheduler,
            onReport: (r) => context.reports.push(r),
          },
        ),
        toArray(),
      ),
    expected: { marbles: '----(x|)', values: { x: ['A', 'B', 'C'] } },
    subscriptions: { source: '^--!' },
    verify: ({ context, expect }) => {
      expect(context.reports).toMatchObject([{ outcome: 'drained', accepted: 3, completed: 3 }]);
    },
  }),

  // ---- ML-04 Closing a fan-in result from a worker -------------------------------------------
  defineCase({
    id: 'fm-ml-04-naive',
    title: '[ML-04] naive: each worker completes the shared results Subject when its loop ends; the fast one wins',
    description:
      'Worker 0 (a, c) is fast and ends when jobs completes, completing `results`: B and D from worker 1 are ' +
      'lost, and the output completes as if there were only two results.',
    source: { marbles: 'abcd|' },
    inner: { fast: { marbles: '-(x|)' }, slow: { marbles: '---(x|)' } },
    operatorLabel:
      'workers w = 0, 1: jobs → filter(i % 2 === w) → concatMap(work) → { next, complete: results.complete }',
    pipeline: (source$: Observable<string>, { inner }) =>
      new Observable<string>((subscriber) => {
        const jobs = new Subject<string>();
        const results = new Subject<string>();
        const subscription = results.subscribe(subscriber);
        for (const w of [0, 1]) {
          subscription.add(
            jobs
              .pipe(
                filter((_, i) => i % 2 === w),
                concatMap((v) => (w === 0 ? inner.fast : inner.slow).pipe(map(() => upper(v)))),
              )
              .subscribe({
                next: (r) => results.next(r),
                complete: () => results.complete(), // BUG: one of several senders closes the fan-in
              }),
          );
        }
        subscription.add(source$.subscribe(jobs));
        return subscription;
      }),
    expected: { marbles: '-A-C|' },
    subscriptions: { inner: { fast: ['^!', '--^!'], slow: ['-^--!'] } },
  }),

  defineCase({
    id: 'fm-ml-04-library',
    title: '[ML-04] library: the pool merges its workers and completes after the last result of the slowest',
    source: { marbles: 'abcd|' },
    inner: { fast: { marbles: '-(x|)' }, slow: { marbles: '---(x|)' } },
    operatorLabel: 'mergeWorkers(v => a or c ? fast : slow, { concurrency: 2 })',
    context: () => ({ monitor: workerMonitor() }),
    operator: ({ inner, context }) =>
      mergeWorkers((v: string) => (v === 'a' || v === 'c' ? inner.fast : inner.slow).pipe(map(() => upper(v))), {
        concurrency: 2,
        monitor: context.monitor,
      }),
    expected: { marbles: '-A-CB-(D|)' },
    verify: ({ context, expect }) => {
      expect(context.monitor.snapshot()).toMatchObject({ completed: 4, inFlight: 0, queued: 0 });
    },
  }),

  // ---- ML-05 A blocking push with no cancellation --------------------------------------------
  defineCase({
    id: 'fm-ml-05-naive',
    title: '[ML-05] naive: a worker pushing into a full channel stays parked after the pipeline is cancelled',
    description:
      'Each job sends its result to `out` (capacity 1, stalled reader). mergeMap has no signal to give the ' +
      'worker, so when the test unsubscribes at frame 4, the send of B is left waiting for ever.',
    source: { marbles: 'abcd' },
    operatorLabel: 'mergeMap(v => out.send(upper(v)), 2); out = channel({ capacity: 1 }), nobody reads',
    context: () => ({ out: channel<string>({ capacity: 1 }) }),
    pipeline: (source$: Observable<string>, { context }) =>
      source$.pipe(mergeMap((v) => from(context.out.send(upper(v)).then(() => v)), 2)),
    unsubscribe: '----!',
    expected: { marbles: '----' },
    subscriptions: { source: '^---!' },
    verify: ({ context, expect }) => {
      expect(context.out.pendingSends).toBe(1);
    },
  }),

  defineCase({
    id: 'fm-ml-05-library',
    title: "[ML-05] library: mergeWorkers aborts the worker's signal on cancel, which withdraws its waiting send",
    source: { marbles: 'abcd' },
    operatorLabel: 'mergeWorkers((v, { signal }) => out.send(upper(v), { signal }), { concurrency: 2 })',
    context: () => ({ out: channel<string>({ capacity: 1 }), signals: [] as AbortSignal[] }),
    pipeline: (source$: Observable<string>, { context }) =>
      source$.pipe(
        mergeWorkers(
          (v: string, { signal }) => {
            context.signals.push(signal);
            return context.out.send(upper(v), { signal }).then(() => v);
          },
          { concurrency: 2 },
        ),
      ),
    unsubscribe: '----!',
    expected: { marbles: '----' },
    subscriptions: { source: '^---!' },
    verify: ({ context, expect }) => {
      expect(context.out.pendingSends).toBe(0);
      const reasons = context.signals.map((s) => s.reason instanceof CancelledError && s.reason.reason);
      expect(reasons).toEqual(['unsubscribed', 'unsubscribed']);
    },
  }),

  // ---- ML-06 One giant buffer ----------------------------------------------------------------
  defineCase({
    id: 'fm-ml-06-naive',
    title: '[ML-06] naive: a giant buffer accepts everything; values wait behind the backlog and no metric moves',
    description:
      'Nothing is dropped, so nothing looks wrong, but h waits 17 frames for a 3-frame job, and the wait grows ' +
      'with every value the producer adds.',
    source: { marbles: 'abcdefgh|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: "boundedBuffer({ capacity: 10_000, overflow: 'drop-oldest' }) → mergeWorkers(job, 1)",
    context: () => ({ arrivedAt: new Map<string, number>(), latency: 0, buffer: bufferMonitor() }),
    pipeline: (source$: Observable<string>, { inner, scheduler, context }) =>
      source$.pipe(
        tap((v) => context.arrivedAt.set(v, scheduler.now())),
        boundedBuffer({ capacity: 10_000, overflow: 'drop-oldest', monitor: context.buffer }),
        mergeWorkers(
          (v: string) =>
            inner.job.pipe(
              map(() => upper(v)),
              tap(() => (context.latency = Math.max(context.latency, scheduler.now() - context.arrivedAt.get(v)!))),
            ),
          { concurrency: 1 },
        ),
      ),
    expected: { marbles: '---A--B--C--D--E--F--G--(H|)' },
    subscriptions: { inner: { job: [0, 3, 6, 9, 12, 15, 18, 21].map((f) => sub(f, 3)) } },
    verify: ({ context, expect }) => {
      expect(context.latency).toBe(17);
      expect(context.buffer.snapshot()).toMatchObject({ dropped: 0, highWater: 5 });
    },
    diagram: { frameWidth: 28 },
  }),

  defineCase({
    id: 'fm-ml-06-library',
    title: '[ML-06] library: a buffer sized to the latency goal keeps waits short and makes overload visible',
    description:
      'One slot and drop-oldest: the worker always gets the freshest value, no value waits more than 5 frames, ' +
      'and the four values shed are counted.',
    source: { marbles: 'abcdefgh|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: "boundedBuffer({ capacity: 1, overflow: 'drop-oldest' }) → mergeWorkers(job, 1)",
    context: () => ({ arrivedAt: new Map<string, number>(), latency: 0, buffer: bufferMonitor() }),
    pipeline: (source$: Observable<string>, { inner, scheduler, context }) =>
      source$.pipe(
        tap((v) => context.arrivedAt.set(v, scheduler.now())),
        boundedBuffer({ capacity: 1, overflow: 'drop-oldest', monitor: context.buffer }),
        mergeWorkers(
          (v: string) =>
            inner.job.pipe(
              map(() => upper(v)),
              tap(() => (context.latency = Math.max(context.latency, scheduler.now() - context.arrivedAt.get(v)!))),
            ),
          { concurrency: 1 },
        ),
      ),
    expected: { marbles: '---A--D--G--(H|)' },
    subscriptions: { inner: { job: [0, 3, 6, 9].map((f) => sub(f, 3)) } },
    verify: ({ context, expect }) => {
      expect(context.latency).toBe(5);
      expect(context.buffer.snapshot()).toMatchObject({ dropped: 4, highWater: 1 });
    },
    diagram: { frameWidth: 28 },
  }),

  // ---- ML-07 Fan-out must self-balance -------------------------------------------------------
  defineCase({
    id: 'fm-ml-07-naive',
    title: '[ML-07] naive: values dealt round-robin to two workers; c and e wait behind slow a while the other idles',
    source: { marbles: 'abcdef|' },
    inner: { fast: { marbles: '-(x|)' }, slow: { marbles: '-------(x|)' } },
    operatorLabel: 'groupBy(index % 2) → per group: concatMap(v => v === "a" ? slow : fast)',
    context: () => ({ startedAt: new Map<string, number>() }),
    pipeline: (source$: Observable<string>, { inner, scheduler, context }) =>
      source$.pipe(
        map((v, i) => ({ v, worker: i % 2 })),
        groupBy((x) => x.worker),
        mergeMap((group) =>
          group.pipe(
            concatMap(({ v }) => {
              context.startedAt.set(v, scheduler.now());
              return (v === 'a' ? inner.slow : inner.fast).pipe(map(() => upper(v)));
            }),
          ),
        ),
      ),
    expected: { marbles: '--B-D-FAC(E|)' },
    subscriptions: { inner: { fast: [1, 3, 5, 7, 8].map((f) => sub(f, 1)), slow: sub(0, 7) } },
    verify: ({ context, expect }) => {
      expect(Object.fromEntries(context.startedAt)).toEqual({ a: 0, b: 1, c: 7, d: 3, e: 8, f: 5 });
    },
  }),

  defineCase({
    id: 'fm-ml-07-library',
    title: '[ML-07] library: free workers pull the next value, so one slow value occupies one worker only',
    source: { marbles: 'abcdef|' },
    inner: { fast: { marbles: '-(x|)' }, slow: { marbles: '-------(x|)' } },
    operatorLabel: 'mergeWorkers(v => v === "a" ? slow : fast, { concurrency: 2 })',
    context: () => ({ startedAt: new Map<string, number>() }),
    operator: ({ inner, scheduler, context }) =>
      mergeWorkers(
        (v: string) => {
          context.startedAt.set(v, scheduler.now());
          return (v === 'a' ? inner.slow : inner.fast).pipe(map(() => upper(v)));
        },
        { concurrency: 2 },
      ),
    expected: { marbles: '--BCDEF(A|)' },
    subscriptions: { inner: { fast: [1, 2, 3, 4, 5].map((f) => sub(f, 1)), slow: sub(0, 7) } },
    verify: ({ context, expect }) => {
      expect(Object.fromEntries(context.startedAt)).toEqual({ a: 0, b: 1, c: 2, d: 3, e: 4, f: 5 });
    },
  }),

  // ---- ML-08 Credit-based pull across a boundary that cannot block ---------------------------
  defineCase({
    id: 'fm-ml-08-naive',
    title: '[ML-08] naive: zip(source, credits) paces the output but buffers everything the push source sends',
    description:
      'The usual RxJS "pull": zip each value with a credit. The source cannot be paused, so zip keeps what has ' +
      'not been credited yet (4 values at frame 7), growing with the input.',
    source: { marbles: 'abcdefgh|' },
    inner: { credits: { marbles: 'c-c-c-c-c-c-c-c' } },
    operatorLabel: 'zip(source, credits) → map(([v]) => v)',
    context: held,
    pipeline: (source$: Observable<string>, { inner, context }) =>
      zip(source$.pipe(tap(() => arrive(context))), inner.credits).pipe(
        map(([v]) => v),
        tap(() => context.started++),
      ),
    expected: { marbles: 'a-b-c-d-e-f-g-(h|)' },
    verify: ({ context, expect }) => {
      expect(context.maxHeld).toBe(4);
    },
    diagram: { frameWidth: 30 },
  }),

  defineCase({
    id: 'fm-ml-08-library',
    title: '[ML-08] library: the push source ends in a bounded buffer; the consumer pulls from it one credit at a time',
    description:
      'Hybrid push/pull: what cannot be paused is absorbed by a buffer of two with a policy (c and e evicted, ' +
      'counted); the consumer requests one value per credit through the demand handshake.',
    source: { marbles: 'abcdefgh|' },
    inner: { credits: { marbles: 'c-c-c-c-c-c-c-c' } },
    operatorLabel: "boundedBuffer({ capacity: 2, overflow: 'drop-oldest' }) → request(1) per credit",
    context: () => ({ buffer: bufferMonitor() }),
    operator:
      ({ inner, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer({ capacity: 2, overflow: 'drop-oldest', monitor: context.buffer }),
          pullOn(inner.credits),
        ),
    expected: { marbles: 'a-b-d-f-g-(h|)' },
    verify: ({ context, expect }) => {
      expect(context.buffer.snapshot()).toMatchObject({ received: 8, emitted: 6, dropped: 2, highWater: 2 });
    },
    diagram: { frameWidth: 30 },
  }),

  // ---- ML-09 A realistic pipeline ------------------------------------------------------------
  defineCase({
    id: 'fm-ml-09-naive',
    title: '[ML-09] naive: one bad record thrown from map kills the whole pipeline',
    source: { marbles: '12x45|' },
    operatorLabel: 'map(parseRecord) → reduce(sum)',
    pipeline: (source$: Observable<string>) =>
      source$.pipe(
        map(parseRecord),
        reduce((sum, n) => sum + n, 0),
      ),
    expected: { marbles: '--#', error: new Error('bad record: x') },
    subscriptions: { source: '^-!' },
    diagram: { sourceTitle: 'lines' },
  }),

  defineCase({
    id: 'fm-ml-09-library',
    title: "[ML-09] library: a bad record is reported and skipped (errors: 'continue'); the sum of the rest comes out",
    source: { marbles: '12x45|' },
    operatorLabel: "mergeWorkers(parseRecord, { concurrency: 2, errors: 'continue', onError }) → reduce(sum)",
    context: () => ({ bad: [] as string[] }),
    pipeline: (source$: Observable<string>, { context }) =>
      source$.pipe(
        mergeWorkers((line: string) => of(parseRecord(line)), {
          concurrency: 2,
          errors: 'continue',
          onError: (_err, line) => context.bad.push(line),
        }),
        reduce((sum, n) => sum + n, 0),
      ),
    expected: { marbles: '-----(s|)', values: { s: 12 } },
    verify: ({ context, expect }) => {
      expect(context.bad).toEqual(['x']);
    },
    diagram: { sourceTitle: 'lines' },
  }),

  // ---- ML-10 A cancelled pipeline leaves no live producer ------------------------------------
  defineCase({
    id: 'fm-ml-10-naive',
    title: '[ML-10] naive: a producer bridged through a Subject outlives the reader; take(2) does not stop it',
    description:
      "source.subscribe(subject) starts the producer outside the reader's subscription: after take(2) the " +
      'source is never unsubscribed and keeps producing into the Subject.',
    source: { marbles: 'abcdefgh' },
    operatorLabel: 'source.subscribe(subject); reader: subject → take(2)',
    context: () => ({ produced: 0 }),
    pipeline: (source$: Observable<string>, { context }) =>
      new Observable<string>((subscriber) => {
        const bridge = new Subject<string>();
        source$.pipe(tap(() => context.produced++)).subscribe(bridge); // BUG: nobody will unsubscribe this
        return bridge.pipe(take(2)).subscribe(subscriber);
      }),
    expected: { marbles: 'a(b|)' },
    subscriptions: { source: '^' },
    verify: ({ context, expect }) => {
      expect(context.produced).toBe(8);
    },
  }),

  defineCase({
    id: 'fm-ml-10-library',
    title: '[ML-10] library: take(2) after the pool releases the source, every inner, the queue and the signals',
    source: { marbles: 'abcdefgh' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: "mergeWorkers(job, { concurrency: 2, capacity: 2, overflow: 'drop-newest' }) → take(2)",
    context: () => ({ produced: 0, signals: new Map<string, AbortSignal>(), monitor: workerMonitor() }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        tap(() => context.produced++),
        mergeWorkers(
          (v: string, { signal }) => {
            context.signals.set(v, signal);
            return inner.job.pipe(map(() => upper(v)));
          },
          { concurrency: 2, capacity: 2, overflow: 'drop-newest', monitor: context.monitor },
        ),
        take(2),
      ),
    expected: { marbles: '--A(B|)' },
    subscriptions: { source: '^--!', inner: { job: ['^-!', '-^-!', '--^!'] } },
    verify: ({ context, expect }) => {
      expect(context.produced).toBe(4);
      const c = context.signals.get('c')!;
      expect(c.reason instanceof CancelledError && c.reason.reason).toBe('unsubscribed');
      // B was emitted at 3, but take(2) unsubscribed before b's inner completed: only a counts as completed.
      expect(context.monitor.snapshot()).toMatchObject({ inFlight: 0, queued: 0, completed: 1, discarded: 1 });
    },
  }),

  defineCase({
    id: 'fm-ml-10-crawler',
    title:
      '[ML-10] library: a worker that feeds its own source; the value it pushed ends the pool, and its inner is still released',
    description:
      "A crawler: the worker for a pushes b into the pool's own source before returning a's inner. b's result " +
      "completes take(1) while a's worker is still running; the pool acts on that only once a's inner is " +
      'subscribed, so the inner is released, not left running on an ended pool.',
    source: { marbles: '-a' },
    inner: { page: { marbles: '----(x|)' } },
    operatorLabel:
      "mergeWorkers(v => v === 'a' ? (queue.next('b'), page) : of(upper(v)), { concurrency: 2 }) → take(1)",
    pipeline: (source$: Observable<string>, { inner }) =>
      new Observable<string>((subscriber) => {
        const queue = new Subject<string>();
        const reader = queue
          .pipe(
            mergeWorkers(
              (v: string) => {
                if (v !== 'a') return of(upper(v));
                queue.next('b');
                return inner.page as Observable<string>;
              },
              { concurrency: 2 },
            ),
            take(1),
          )
          .subscribe(subscriber);
        reader.add(source$.subscribe((v) => queue.next(v)));
        return reader;
      }),
    expected: { marbles: '-(B|)' },
    subscriptions: { source: '^!', inner: { page: '-(^!)' } },
  }),
]);
