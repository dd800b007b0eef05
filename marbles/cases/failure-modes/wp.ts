import {
  Observable,
  Subject,
  concatMap,
  defer,
  endWith,
  interval,
  map,
  mergeMap,
  reduce,
  take,
  takeUntil,
  tap,
  type SchedulerLike,
} from 'rxjs';
import { CancelledError } from '../../../lib/core/errors.js';
import { workerMonitor } from '../../../lib/pool/stats.js';
import { channel } from '../../../operators/channel.js';
import { drainOnComplete } from '../../../operators/drainOnComplete.js';
import { mergeWorkers } from '../../../operators/mergeWorkers.js';
import { defineCase, defineCases } from '../../case.js';
import { pullEvery } from '../../testing.js';

/*
 * Worker pools, find the bug (seed 002). Each naive case ports the seed's Go bug to the RxJS a
 * JavaScript developer would write, and pins what goes wrong; the library case next to it runs
 * the same jobs through the library and pins what it does instead. A job is an inner cold
 * stream (`job`, `slow`, ...) whose subscription rows in the diagram show when it ran.
 */

export const upper = (v: string): string => v.toUpperCase();

/**
 * Work that behaves like a Promise: it runs `work$` to completion and then emits `result()`.
 * Unsubscribing does not stop it (there is no teardown); only `signal`, when given, does. This
 * is what `mergeMap(v => fetch(...))` gives a pool: cancellation cannot reach the work.
 */
export function promiseLike<R>(work$: Observable<unknown>, result: () => R, signal?: AbortSignal): Observable<R> {
  return new Observable<R>((subscriber) => {
    const running = work$.subscribe({
      complete: () => {
        subscriber.next(result());
        subscriber.complete();
      },
    });
    signal?.addEventListener('abort', () => running.unsubscribe(), { once: true });
  });
}

/** The frame of the scheduler now, followed by a label: `3a` is "a, at frame 3". */
export const at = (scheduler: SchedulerLike, label: string): string => `${scheduler.now()}${label}`;

/** The `reason` of a CancelledError an AbortSignal was aborted with, or undefined. */
export function cancelReason(signal: AbortSignal | undefined): string | undefined {
  return signal?.aborted === true && signal.reason instanceof CancelledError ? signal.reason.reason : undefined;
}

export const wpCases = defineCases('failure modes WP', [
  // ---- WP-01 The hung pool (input never closed) ------------------------------------------------
  defineCase({
    id: 'fm-wp-01-naive',
    title: '[WP-01] naive: a job queue that is never completed leaves mergeMap, and whoever waits on it, hanging',
    description:
      'The jobs come from a Subject that nobody completes (the missing close). Every job is done by ' +
      'frame 7, but the output never completes, so lastValueFrom or toArray would wait for ever.',
    source: { marbles: '-a-b-c--', kind: 'hot' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'jobs (never completed) → mergeMap(job, 3)',
    pipeline: (source$: Observable<string>, { inner }) =>
      source$.pipe(mergeMap((v) => inner.job.pipe(map(() => upper(v))), 3)),
    expected: { marbles: '---A-B-C' },
    subscriptions: { source: '^', inner: { job: ['-^-!', '---^-!', '-----^-!'] } },
  }),
  defineCase({
    id: 'fm-wp-01-library',
    title:
      '[WP-01] library: drainOnComplete turns a stop into the close, and the pool completes once the accepted jobs are done',
    description:
      'The same never-completing queue. At the stop (frame 6) drainOnComplete releases the source; the pool ' +
      'finishes c and completes the output itself (the closer is built in). On a channel, close() does the same.',
    source: { marbles: '-a-b-c--', kind: 'hot' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: "drainOnComplete(mergeWorkers(job, { concurrency: 3 }), { stop: '------s', deadline: 20 })",
    operator: ({ inner, hot, scheduler }) =>
      drainOnComplete(
        mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 3 }),
        { stop: hot('------s'), deadline: 20, scheduler },
      ),
    expected: { marbles: '---A-B-(C|)' },
    subscriptions: { source: '^-----!', inner: { job: ['-^-!', '---^-!', '-----^-!'] } },
  }),

  // ---- WP-02 The vanishing workers (counted after start) -------------------------------------
  defineCase({
    id: 'fm-wp-02-naive',
    title: '[WP-02] naive: work started as a side effect is not counted, so the stream completes while it still runs',
    description:
      'tap() starts each job and forgets it: nothing counts it before it starts, so completion (the wait) ' +
      'comes at frame 2 while the jobs run until 4 and 5.',
    source: { marbles: 'ab|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: 'tap(v => job.subscribe(...)) (fire and forget)',
    context: () => ({ finished: [] as string[], completedAt: -1 }),
    pipeline: (source$: Observable<string>, { inner, context, scheduler }) =>
      source$.pipe(
        tap({
          next: (v) => inner.job.subscribe({ complete: () => context.finished.push(at(scheduler, v)) }),
          complete: () => (context.completedAt = scheduler.now()),
        }),
      ),
    expected: { marbles: 'ab|' },
    subscriptions: { source: '^-!', inner: { job: ['^--!', '-^--!'] } },
    verify: ({ context, expect }) => {
      expect(context.completedAt).toBe(2);
      // Both jobs finished after the output had already said "done".
      expect(context.finished).toEqual(['3a', '4b']);
    },
  }),
  defineCase({
    id: 'fm-wp-02-library',
    title: '[WP-02] library: mergeWorkers counts a value when it accepts it, and completes only after its work is done',
    source: { marbles: 'ab|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: 'mergeWorkers(job, { concurrency: 2 })',
    operator: ({ inner }) => mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 2 }),
    expected: { marbles: '---A(B|)' },
    subscriptions: { source: '^-!', inner: { job: ['^--!', '-^--!'] } },
  }),

  // ---- WP-03 Send on closed channel (a worker closes the input) ------------------------------
  defineCase({
    id: 'fm-wp-03-naive',
    title:
      '[WP-03] naive: a worker completes the shared job Subject, and the jobs sent after it vanish without a trace',
    description:
      'The worker that gets c completes the jobs Subject. Go would panic on the next send; RxJS ignores ' +
      'next() on a stopped Subject, so d and e are sent, accepted by nobody, and reported by nobody.',
    source: { marbles: 'abcde|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'jobs = new Subject() → mergeMap(v => { if (v === "c") jobs.complete(); return job }, 2)',
    context: () => ({ sent: [] as string[], worked: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      new Observable<string>((subscriber) => {
        const jobs = new Subject<string>();
        const subscription = jobs
          .pipe(
            mergeMap((v) => {
              context.worked.push(v);
              if (v === 'c') jobs.complete(); // the bug: a worker closes the input
              return inner.job.pipe(map(() => upper(v)));
            }, 2),
          )
          .subscribe(subscriber);
        subscription.add(
          source$.subscribe({
            next: (v) => {
              context.sent.push(v);
              jobs.next(v); // no error, no return value: the send after the close is lost silently
            },
            complete: () => jobs.complete(),
          }),
        );
        return subscription;
      }),
    expected: { marbles: '--AB(C|)' },
    subscriptions: { source: '^---!', inner: { job: ['^-!', '-^-!', '--^-!'] } },
    verify: ({ context, expect }) => {
      expect(context.sent).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(context.worked).toEqual(['a', 'b', 'c']);
    },
  }),
  defineCase({
    id: 'fm-wp-03-library',
    title:
      '[WP-03] library: a closed channel refuses later sends (trySend false, send rejects ClosedError), never silently',
    description:
      'The same misuse on a channel: the worker that gets c closes it. d and e are refused and the producer ' +
      'knows it; the values accepted before the close are still worked, then the output completes.',
    source: { marbles: 'abcde|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'ch = channel({ capacity: 4 }) → mergeWorkers(v => { if (v === "c") ch.close(); return job }, 2)',
    context: () => ({ refused: [] as string[], worked: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      new Observable<string>((subscriber) => {
        const ch = channel<string>({ capacity: 4 });
        const subscription = ch.observable
          .pipe(
            mergeWorkers(
              (v: string) => {
                context.worked.push(v);
                if (v === 'c') ch.close();
                return inner.job.pipe(map(() => upper(v)));
              },
              { concurrency: 2 },
            ),
          )
          .subscribe(subscriber);
        subscription.add(
          source$.subscribe({
            next: (v) => {
              if (!ch.trySend(v)) context.refused.push(v);
            },
            complete: () => ch.close(),
          }),
        );
        return subscription;
      }),
    expected: { marbles: '--AB(C|)' },
    subscriptions: { source: '^---!', inner: { job: ['^-!', '-^-!', '--^-!'] } },
    verify: ({ context, expect }) => {
      expect(context.refused).toEqual(['d', 'e']);
      expect(context.worked).toEqual(['a', 'b', 'c']);
    },
  }),

  // ---- WP-04 The race condition (shared counter) ---------------------------------------------
  defineCase({
    id: 'fm-wp-04-naive',
    title:
      '[WP-04] naive: four concurrent workers add 1 to a shared counter across an await, and three updates are lost',
    description:
      'No data race on one event loop, but the same lost update: each worker reads the counter when it ' +
      'starts and writes read + 1 when its job ends, overwriting the increments made meanwhile.',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: 'mergeMap(v => { const n = count; return job.pipe(finalize(() => count = n + 1)) }, 4)',
    context: () => ({ count: 0 }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        mergeMap(
          (v) =>
            defer(() => {
              const read = context.count; // read ...
              return inner.job.pipe(
                tap({ complete: () => (context.count = read + 1) }), // ... modify-write after the await
                map(() => upper(v)),
              );
            }),
          4,
        ),
      ),
    expected: { marbles: '----ABC(D|)' },
    subscriptions: { inner: { job: ['^---!', '-^---!', '--^---!', '---^---!'] } },
    verify: ({ context, expect }) => {
      expect(context.count).toBe(1);
    },
  }),
  defineCase({
    id: 'fm-wp-04-library',
    title:
      '[WP-04] library: workers return their result and one downstream reduce aggregates; nothing shared is written',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: 'mergeWorkers(v => job.pipe(map(() => 1)), { concurrency: 4 }) → reduce(+)',
    pipeline: (source$: Observable<string>, { inner }) =>
      source$.pipe(
        mergeWorkers(() => inner.job.pipe(map(() => 1)), { concurrency: 4 }),
        reduce((sum, n) => sum + n, 0),
      ),
    expected: { marbles: '-------(n|)', values: { n: 4 } },
    subscriptions: { inner: { job: ['^---!', '-^---!', '--^---!', '---^---!'] } },
  }),

  // ---- WP-05 The wait that never returns (results never drained) ------------------------------
  defineCase({
    id: 'fm-wp-05-naive',
    title: '[WP-05] naive: mergeMap keeps working for a consumer that has stopped reading, and every result piles up',
    description:
      'The consumer takes one value and then is busy for 30 frames. mergeMap cannot see that: all six jobs ' +
      'run by frame 12 and their results are pushed at a consumer that is not reading (in a for-await ' +
      'bridge such as eachValueFrom they wait in an unbounded array).',
    source: { marbles: '(abcdef|)' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: 'mergeMap(job, 2) → pullEvery(30)',
    unsubscribe: '15ms !',
    context: () => ({ started: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context, scheduler }) =>
      source$.pipe(
        mergeMap((v) => {
          context.started.push(at(scheduler, v));
          return inner.job.pipe(map(() => upper(v)));
        }, 2),
        pullEvery(30, scheduler),
      ),
    expected: { marbles: '----(AB)(CD)(EF|)' },
    verify: ({ context, expect }) => {
      expect(context.started).toEqual(['0a', '0b', '4c', '4d', '8e', '8f']);
    },
    diagram: { frameWidth: 30 },
  }),
  defineCase({
    id: 'fm-wp-05-library',
    title: '[WP-05] library: results waiting for a consumer that does not ask stop the pool; no new work starts',
    description:
      'The same consumer through the demand handshake. After one result it asks for nothing: the pool keeps ' +
      'at most `concurrency` finished results and starts nothing more; e and f wait in its bounded queue.',
    source: { marbles: '(abcdef|)' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: 'mergeWorkers(job, { concurrency: 2 }) → pullEvery(30)',
    unsubscribe: '15ms !',
    context: () => ({ started: [] as string[], monitor: workerMonitor() }),
    pipeline: (source$: Observable<string>, { inner, context, scheduler }) =>
      source$.pipe(
        mergeWorkers(
          (v: string) => {
            context.started.push(at(scheduler, v));
            return inner.job.pipe(map(() => upper(v)));
          },
          { concurrency: 2, monitor: context.monitor },
        ),
        pullEvery(30, scheduler),
      ),
    expected: { marbles: '----A' },
    verify: ({ context, expect }) => {
      expect(context.started).toEqual(['0a', '0b', '4c', '4d']);
      // Only A was delivered (completed). At the unsubscribe the values whose results waited (b, c,
      // d) and the queued ones (e, f) were thrown away, counted as discarded; the six add up.
      expect(context.monitor.snapshot()).toMatchObject({
        received: 6,
        completed: 1,
        held: 0,
        inFlight: 0,
        queued: 0,
        discarded: 5,
      });
    },
    diagram: { frameWidth: 30 },
  }),

  // ---- WP-06 The panic cascade (one bad job kills everything) ---------------------------------
  defineCase({
    id: 'fm-wp-06-naive',
    title: '[WP-06] naive: one failing job errors mergeMap, which drops the jobs that were still to come',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '--(x|)' }, bad: { marbles: '-#' } },
    operatorLabel: 'mergeMap(v => v === "b" ? bad : job, 2)',
    context: () => ({ worked: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        mergeMap((v) => {
          context.worked.push(v);
          return v === 'b' ? inner.bad : inner.job.pipe(map(() => upper(v)));
        }, 2),
      ),
    expected: { marbles: '--(A#)' },
    subscriptions: { source: '^-!', inner: { job: ['^-!', '--(^!)'], bad: '-^!' } },
    verify: ({ context, expect }) => {
      // c took a's slot at 2 and was killed in the same frame by b's error; d was never started.
      expect(context.worked).toEqual(['a', 'b', 'c']);
    },
  }),
  defineCase({
    id: 'fm-wp-06-library',
    title: "[WP-06] library: errors: 'continue' reports the bad job to onError, frees its slot, and the pool goes on",
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '--(x|)' }, bad: { marbles: '-#' } },
    operatorLabel: 'mergeWorkers(v => v === "b" ? bad : job, { concurrency: 2, errors: \'continue\', onError })',
    context: () => ({ failed: [] as string[], monitor: workerMonitor() }),
    operator: ({ inner, context }) =>
      mergeWorkers((v: string) => (v === 'b' ? inner.bad : inner.job.pipe(map(() => upper(v)))), {
        concurrency: 2,
        errors: 'continue',
        onError: (_err, v) => context.failed.push(v),
        monitor: context.monitor,
      }),
    expected: { marbles: '--A-C(D|)' },
    subscriptions: { inner: { job: ['^-!', '--^-!', '---^-!'], bad: '-^!' } },
    verify: ({ context, expect }) => {
      expect(context.failed).toEqual(['b']);
      expect(context.monitor.snapshot()).toMatchObject({ completed: 3, failed: 1, inFlight: 0 });
    },
  }),

  // ---- WP-07 Cancellation that doesn't ---------------------------------------------------------
  defineCase({
    id: 'fm-wp-07-naive',
    title: '[WP-07] naive: takeUntil(cancel) ends the output, but Promise-like work never hears of it and runs on',
    description:
      'Each job is work that cannot be unsubscribed (a Promise, a sleep). The cancel at 5 ends the output; ' +
      'c and d still run to the end and are "processed" at 6 and 7.',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '---|' } },
    operatorLabel: "mergeMap(v => from(work(v)), 2) → takeUntil(cancel: '-----c')",
    context: () => ({ processed: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context, scheduler, hot }) =>
      source$.pipe(
        mergeMap((v) => promiseLike(inner.job, () => (context.processed.push(at(scheduler, v)), upper(v))), 2),
        takeUntil(hot('-----c')),
      ),
    expected: { marbles: '---AB|' },
    subscriptions: { inner: { job: ['^--!', '-^--!', '---^--!', '----^--!'] } },
    verify: ({ context, expect }) => {
      expect(context.processed).toEqual(['3a', '4b', '6c', '7d']);
    },
  }),
  defineCase({
    id: 'fm-wp-07-library',
    title:
      "[WP-07] library: cancelling aborts each running worker's signal with reason 'unsubscribed', so the work stops",
    description: 'The same work, told to stop by the signal the pool hands it: c and d end at the cancel.',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '---|' } },
    operatorLabel: "mergeWorkers((v, { signal }) => work(v, signal), { concurrency: 2 }) → takeUntil(cancel: '-----c')",
    context: () => ({ processed: [] as string[], signals: new Map<string, AbortSignal>() }),
    pipeline: (source$: Observable<string>, { inner, context, scheduler, hot }) =>
      source$.pipe(
        mergeWorkers(
          (v: string, { signal }) => {
            context.signals.set(v, signal);
            return promiseLike(inner.job, () => (context.processed.push(at(scheduler, v)), upper(v)), signal);
          },
          { concurrency: 2 },
        ),
        takeUntil(hot('-----c')),
      ),
    expected: { marbles: '---AB|' },
    subscriptions: { inner: { job: ['^--!', '-^--!', '---^-!', '----^!'] } },
    verify: ({ context, expect }) => {
      expect(context.processed).toEqual(['3a', '4b']);
      expect(cancelReason(context.signals.get('c'))).toBe('unsubscribed');
      expect(cancelReason(context.signals.get('d'))).toBe('unsubscribed');
      expect(context.signals.get('a')?.aborted).toBe(false);
    },
  }),

  // ---- WP-08 The lost results (consumer stops early, workers stuck) ---------------------------
  defineCase({
    id: 'fm-wp-08-naive',
    title: '[WP-08] naive: after take(2) the other Promise-like jobs still finish, and their results are thrown away',
    description:
      'The consumer wants two results. c and d keep working after it has gone and produce results at 7 and ' +
      '8 that nobody receives: work and results lost, and in Go the workers would block on the send for ever.',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '--|' }, slow: { marbles: '-----|' } },
    operatorLabel: 'mergeMap(v => from(work(v)), 4) → take(2)',
    context: () => ({ produced: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context, scheduler }) =>
      source$.pipe(
        mergeMap(
          (v) =>
            promiseLike(v === 'a' || v === 'b' ? inner.job : inner.slow, () => {
              context.produced.push(at(scheduler, upper(v)));
              return upper(v);
            }),
          4,
        ),
        take(2),
      ),
    expected: { marbles: '--A(B|)' },
    subscriptions: { source: '^--!', inner: { job: ['^-!', '-^-!'], slow: ['--^----!', '---^----!'] } },
    verify: ({ context, expect }) => {
      expect(context.produced).toEqual(['2A', '3B', '7C', '8D']);
    },
  }),
  defineCase({
    id: 'fm-wp-08-library',
    title: "[WP-08] library: when the consumer stops, the pool aborts the remaining work (reason 'unsubscribed')",
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '--|' }, slow: { marbles: '-----|' } },
    operatorLabel: 'mergeWorkers((v, { signal }) => work(v, signal), { concurrency: 4 }) → take(2)',
    context: () => ({ produced: [] as string[], signals: [] as AbortSignal[] }),
    pipeline: (source$: Observable<string>, { inner, context, scheduler }) =>
      source$.pipe(
        mergeWorkers(
          (v: string, { signal }) => {
            context.signals.push(signal);
            return promiseLike(
              v === 'a' || v === 'b' ? inner.job : inner.slow,
              () => {
                context.produced.push(at(scheduler, upper(v)));
                return upper(v);
              },
              signal,
            );
          },
          { concurrency: 4 },
        ),
        take(2),
      ),
    expected: { marbles: '--A(B|)' },
    subscriptions: { source: '^--!', inner: { job: ['^-!', '-^-!'], slow: ['--^!', '---(^!)'] } },
    verify: ({ context, expect }) => {
      expect(context.produced).toEqual(['2A', '3B']);
      // b's signal aborts too: take(2) ended inside b's result, before b's inner had completed.
      expect(context.signals.map(cancelReason)).toEqual([undefined, 'unsubscribed', 'unsubscribed', 'unsubscribed']);
    },
  }),

  // ---- WP-09 Double close (two producers) -------------------------------------------------------
  defineCase({
    id: 'fm-wp-09-naive',
    title:
      "[WP-09] naive: two producers subscribed to one Subject each complete it; the first ends it, the second's values vanish",
    description:
      'source and `second` both forward into the jobs Subject with subscribe(jobs), which forwards complete ' +
      'too. The first completion (frame 4) ends the jobs stream; the second complete is ignored, and so is e.',
    source: { marbles: 'a-b-|' },
    inner: { second: { marbles: '-c-d--e|', values: { c: 'c', d: 'd', e: 'e' } } },
    operatorLabel: 'source.subscribe(jobs); second.subscribe(jobs)',
    context: () => ({ sentBySecond: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      new Observable<string>((subscriber) => {
        const jobs = new Subject<string>();
        const subscription = jobs.subscribe(subscriber);
        subscription.add(source$.subscribe(jobs));
        // Not tied to the output: the second producer is never told that the jobs stream has ended.
        inner.second.pipe(tap((v) => context.sentBySecond.push(v))).subscribe(jobs);
        return subscription;
      }),
    expected: { marbles: 'acbd|' },
    subscriptions: { source: '^---!', inner: { second: '^------!' } },
    verify: ({ context, expect }) => {
      expect(context.sentBySecond).toEqual(['c', 'd', 'e']);
    },
  }),
  defineCase({
    id: 'fm-wp-09-library',
    title:
      '[WP-09] library: on a channel the second close() is a no-op, and the send that comes too late is refused, not lost',
    description:
      'The same two producers, each closing the channel when it is done. Nothing throws; e is refused ' +
      '(trySend returns false; send would reject with ClosedError), so the second producer knows. The cure ' +
      'is one closer after both producers are done (see the test file).',
    source: { marbles: 'a-b-|' },
    inner: { second: { marbles: '-c-d--e|', values: { c: 'c', d: 'd', e: 'e' } } },
    operatorLabel: 'ch = channel({ capacity: 8 }); each producer: trySend(v), on complete ch.close()',
    context: () => ({ refused: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      new Observable<string>((subscriber) => {
        const ch = channel<string>({ capacity: 8 });
        const producer = {
          next: (v: string) => {
            if (!ch.trySend(v)) context.refused.push(v);
          },
          complete: () => ch.close(),
        };
        const subscription = ch.observable.subscribe(subscriber);
        subscription.add(source$.subscribe(producer));
        inner.second.subscribe(producer);
        return subscription;
      }),
    expected: { marbles: 'acbd|' },
    subscriptions: { source: '^---!', inner: { second: '^------!' } },
    verify: ({ context, expect }) => {
      expect(context.refused).toEqual(['e']);
    },
  }),

  // ---- WP-10 Pool of zero ---------------------------------------------------------------------
  defineCase({
    id: 'fm-wp-10-naive',
    title: '[WP-10] naive: mergeMap with concurrency 0 (from a config) buffers every value and never completes',
    source: { marbles: 'abc|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'mergeMap(job, config.workers = 0)',
    context: () => ({ worked: [] as string[] }),
    pipeline: (source$: Observable<string>, { inner, context }) => {
      const workers = 0; // from a config file
      return source$.pipe(
        mergeMap((v) => {
          context.worked.push(v);
          return inner.job.pipe(map(() => upper(v)));
        }, workers),
      );
    },
    expected: { marbles: '' },
    subscriptions: { source: '^--!', inner: { job: [] } },
    verify: ({ context, expect }) => {
      expect(context.worked).toEqual([]);
    },
  }),
  defineCase({
    id: 'fm-wp-10-library',
    title:
      "[WP-10] library: concurrency 0 fails fast with a RangeError naming 'concurrency', before any value is taken",
    description: 'mergeWorkers validates when it is called; defer() shows the error as the stream would carry it.',
    source: { marbles: 'abc|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'defer(() => source.pipe(mergeWorkers(job, { concurrency: 0 })))',
    pipeline: (source$: Observable<string>, { inner }) =>
      defer(() => source$.pipe(mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 0 }))),
    expected: {
      marbles: '#',
      error: new RangeError("mergeWorkers: 'concurrency' must be a positive integer or an Observable<number>, got 0"),
    },
    subscriptions: { source: [], inner: { job: [] } },
  }),
  defineCase({
    id: 'fm-wp-10-library-floor',
    title: '[WP-10] library: a concurrency Observable that emits 0 is floored at 1, so the pool never stalls',
    source: { marbles: 'abc|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: "mergeWorkers(job, { concurrency: limit$ = 'z' (z = 0) })",
    operator: ({ inner, hot }) =>
      mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: hot('z', { z: 0 }) }),
    expected: { marbles: '--A-B-(C|)' },
    subscriptions: { inner: { job: ['^-!', '--^-!', '----^-!'] } },
  }),

  // ---- WP-11 Deadlock on full results (slow consumer throttles the pool) ----------------------
  defineCase({
    id: 'fm-wp-11-naive',
    title: "[WP-11] naive: a slow concatMap consumer cannot throttle mergeMap; five results wait in concatMap's buffer",
    description:
      'The pool finishes all six jobs by frame 3; the consumer needs three frames per result, so the ' +
      'results queue up in concatMap, whose buffer has no bound (here 5 at most; with a fast source, all).',
    source: { marbles: '(abcdef|)' },
    inner: { job: { marbles: '-(x|)' }, consume: { marbles: '---|' } },
    operatorLabel: 'mergeMap(job, 2) → concatMap(consume)',
    context: () => ({ produced: 0, taken: 0, maxBacklog: 0 }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        mergeMap((v) => inner.job.pipe(map(() => upper(v))), 2),
        tap(() => {
          context.produced++;
          context.maxBacklog = Math.max(context.maxBacklog, context.produced - context.taken);
        }),
        concatMap((r) => {
          context.taken++;
          return inner.consume.pipe(endWith(r));
        }),
      ),
    expected: { marbles: '----A--B--C--D--E--(F|)' },
    verify: ({ context, expect }) => {
      expect(context.maxBacklog).toBe(5);
    },
    diagram: { frameWidth: 24 },
  }),
  defineCase({
    id: 'fm-wp-11-library',
    title:
      '[WP-11] library: under a slow demand-aware consumer the pool runs at its pace, with few results waiting, by design',
    description:
      'Throttling to the consumer is the point of backpressure: work starts only while fewer than ' +
      '`concurrency` results wait. To decouple instead, put a boundedBuffer with an explicit policy in between.',
    source: { marbles: '(abcdef|)' },
    inner: { job: { marbles: '-(x|)' } },
    operatorLabel: 'mergeWorkers(job, { concurrency: 2 }) → pullEvery(3)',
    context: () => {
      const monitor = workerMonitor();
      const context = { started: [] as string[], monitor, maxWaiting: 0 };
      // Values whose work finished and whose result waits for the consumer: the monitor's `held`.
      monitor.changes.subscribe((s) => (context.maxWaiting = Math.max(context.maxWaiting, s.held)));
      return context;
    },
    pipeline: (source$: Observable<string>, { inner, context, scheduler }) =>
      source$.pipe(
        mergeWorkers(
          (v: string) => {
            context.started.push(at(scheduler, v));
            return inner.job.pipe(map(() => upper(v)));
          },
          { concurrency: 2, monitor: context.monitor },
        ),
        pullEvery(3, scheduler),
      ),
    expected: { marbles: '-A--B--C--D--E--(F|)' },
    verify: ({ context, expect }) => {
      // Work starts as the consumer frees room: e and f wait until C has been taken at 7.
      expect(context.started).toEqual(['0a', '0b', '1c', '1d', '7e', '7f']);
      // Results waiting for the consumer stay bounded by the pool (B, C and D at frame 2).
      expect(context.maxWaiting).toBe(3);
    },
    diagram: { frameWidth: 24 },
  }),

  // ---- WP-12 Worker exits too early (zero value from a closed channel taken as data) ----------
  defineCase({
    id: 'fm-wp-12-naive',
    title:
      '[WP-12] naive: a polling worker takes queue.shift() of a drained, finished queue as a job: undefined, for ever',
    description:
      "The JavaScript zero value is undefined: shift() of an empty array, or the value of an iterator's " +
      'last {done: true} result. The worker polls every 2 frames and never checks that the jobs have ended; ' +
      'take(5) stops it here, the real loop spins for ever.',
    source: { marbles: 'abc|' },
    operatorLabel: 'queue ← source; interval(2) → map(() => queue.shift()) → take(5)',
    context: () => ({ worked: [] as (string | undefined)[] }),
    pipeline: (source$: Observable<string>, { context, scheduler }) =>
      defer(() => {
        const queue: string[] = [];
        source$.subscribe((v) => queue.push(v)); // its completion is never looked at
        return interval(2, scheduler).pipe(
          map(() => queue.shift()),
          tap((job) => context.worked.push(job)),
          take(5),
        );
      }),
    expected: { marbles: '--a-b-c-u-(u|)', values: { a: 'a', b: 'b', c: 'c', u: undefined } },
    verify: ({ context, expect }) => {
      expect(context.worked).toEqual(['a', 'b', 'c', undefined, undefined]);
    },
  }),
  defineCase({
    id: 'fm-wp-12-library',
    title: '[WP-12] library: the end of the jobs is a completion, never a value; workers get only real values',
    source: { marbles: 'abc|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'mergeWorkers(job, { concurrency: 1 })',
    context: () => ({ worked: [] as string[] }),
    operator: ({ inner, context }) =>
      mergeWorkers(
        (v: string) => {
          context.worked.push(v);
          return inner.job.pipe(map(() => upper(v)));
        },
        { concurrency: 1 },
      ),
    expected: { marbles: '--A-B-(C|)' },
    subscriptions: { source: '^--!', inner: { job: ['^-!', '--^-!', '----^-!'] } },
    verify: ({ context, expect }) => {
      expect(context.worked).toEqual(['a', 'b', 'c']);
    },
  }),

  // ---- WP-13 Counter off by one ---------------------------------------------------------------
  defineCase({
    id: 'fm-wp-13-naive',
    title: '[WP-13] naive: take(4) counts the results by hand for five jobs; it completes early and cuts off the fifth',
    description:
      'The expected number of results is kept apart from the jobs (a constant, a config). With one job more ' +
      'than counted, e is cancelled at 5 and E never arrives; with one fewer, the output would never complete.',
    source: { marbles: 'abcde|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'mergeMap(job, 2) → take(EXPECTED_RESULTS = 4)',
    pipeline: (source$: Observable<string>, { inner }) => {
      const EXPECTED_RESULTS = 4;
      return source$.pipe(
        mergeMap((v) => inner.job.pipe(map(() => upper(v))), 2),
        take(EXPECTED_RESULTS),
      );
    },
    expected: { marbles: '--ABC(D|)' },
    subscriptions: { source: '^----!', inner: { job: ['^-!', '-^-!', '--^-!', '---^-!', '----^!'] } },
  }),
  defineCase({
    id: 'fm-wp-13-library',
    title: '[WP-13] library: nothing to count by hand; the pool completes when the source has and every value is done',
    source: { marbles: 'abcde|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'mergeWorkers(job, { concurrency: 2 })',
    context: () => ({ monitor: workerMonitor() }),
    operator: ({ inner, context }) =>
      mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 2, monitor: context.monitor }),
    expected: { marbles: '--ABCD(E|)' },
    subscriptions: { source: '^----!', inner: { job: ['^-!', '-^-!', '--^-!', '---^-!', '----^-!'] } },
    verify: ({ context, expect }) => {
      expect(context.monitor.snapshot()).toMatchObject({ completed: 5, inFlight: 0, queued: 0 });
    },
  }),
]);
