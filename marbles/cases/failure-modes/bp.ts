import {
  EMPTY,
  Observable,
  ReplaySubject,
  Subject,
  concat,
  concatMap,
  defer,
  delay,
  exhaustMap,
  filter,
  finalize,
  map,
  merge,
  mergeMap,
  of,
  race,
  retry,
  take,
  takeUntil,
  tap,
  timer,
  toArray,
  type SchedulerLike,
} from 'rxjs';
import { CancelledError, OverflowError } from '../../../lib/core/errors.js';
import { workerMonitor } from '../../../lib/pool/stats.js';
import { IMPLICIT_QUEUE_ADVICE } from '../../../lib/queue/bounded-queue.js';
import { boundedBuffer, bufferMonitor } from '../../../operators/boundedBuffer.js';
import { channel, type Channel } from '../../../operators/channel.js';
import { drainOnComplete, type DrainReport } from '../../../operators/drainOnComplete.js';
import { mergeWorkers } from '../../../operators/mergeWorkers.js';
import { defineCase, defineCases } from '../../case.js';
import { pullEvery, upper } from '../../testing.js';

/*
 * Failure modes BP-01..BP-20 (seed 001, "Backpressure: find the bug"). Each Go bug is mapped to
 * its RxJS analog. Where plain RxJS shows the failure, a `-naive` case pins it and a `-library`
 * case shows the library's operator preventing it; docs/failure-modes.md is the catalog.
 *
 * Conventions: a worker's job is an inner cold observable (`job`, `slow`, `call`), so inner
 * subscription marbles show exactly when a job held resources. Counters live in `context` and
 * `verify` asserts on them after the scheduler has flushed.
 */

/** How many of something are open at once: now, the most ever, and how many were opened. */
interface Gauge {
  now: number;
  max: number;
  total: number;
}

const gauge = (): Gauge => ({ now: 0, max: 0, total: 0 });

/** `work$`, counted in `g` from subscription to completion, error or unsubscription. */
function tracked<T>(g: Gauge, work$: Observable<T>): Observable<T> {
  return defer(() => {
    g.now++;
    g.total++;
    g.max = Math.max(g.max, g.now);
    return work$.pipe(finalize(() => g.now--));
  });
}

/**
 * Work that starts at once, like a Promise, and runs `steps` steps one frame apart on the
 * scheduler, logging the frame of each step. It can stop early only if it is given a signal;
 * it checks the signal before every step, as the seed's fix checks `ctx.Err()`.
 */
function steppedWork(
  value: string,
  steps: number,
  scheduler: SchedulerLike,
  log: number[],
  signal?: AbortSignal,
): Observable<string> {
  const result = new ReplaySubject<string>(1);
  let done = 0;
  const step = (): void => {
    if (signal?.aborted === true) {
      result.error(signal.reason);
      return;
    }
    log.push(scheduler.now());
    if (++done < steps) scheduler.schedule(step, 1);
    else {
      result.next(upper(value));
      result.complete();
    }
  };
  scheduler.schedule(step, 1);
  return result.asObservable();
}

/**
 * Subscribes the consumer side first, then starts the producer, so nothing is offered before
 * anyone listens. The producer is not tied to the output: it ends when its source ends, as an
 * independent goroutine would.
 */
function consumeThenProduce<T>(consumer$: Observable<T>, produce: () => void): Observable<T> {
  return new Observable<T>((subscriber) => {
    const subscription = consumer$.subscribe(subscriber);
    produce();
    return subscription;
  });
}

/** A producer that offers each source value with `trySend`, records refusals, closes at the end. */
function produceInto(source$: Observable<string>, ch: Channel<string>, refused: string[]): void {
  source$.subscribe({
    next: (v) => {
      if (!ch.trySend(v)) refused.push(v);
    },
    complete: () => ch.close(),
  });
}

/** Subscription marbles of a job subscribed at `start` and ended `length` frames later. */
const held = (start: number, length: number): string => `${'-'.repeat(start)}^${'-'.repeat(length - 1)}!`;

/** Random numbers for retry jitter, taken in turn from a fixed list (so frames are exact). */
function sequence(values: readonly number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

export const bpCases = defineCases('failure modes BP', [
  // ---- BP-01 Unbounded slice queue ------------------------------------------------------------
  defineCase({
    id: 'fm-bp-01-naive',
    title: '[BP-01] naive: concatMap in front of a slow job queues every value of a fast source, without bound',
    description: 'concatMap keeps an internal array of waiting values; nothing ever refuses one.',
    source: { marbles: 'abcdefgh|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: 'concatMap(v => job(v))',
    context: () => ({ backlog: gauge() }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        tap(() => {
          context.backlog.now++;
          context.backlog.max = Math.max(context.backlog.max, context.backlog.now);
        }),
        concatMap((v) => {
          context.backlog.now--;
          return inner.job.pipe(map(() => upper(v)));
        }),
      ),
    expected: { marbles: '---A--B--C--D--E--F--G--(H|)' },
    subscriptions: { source: '^-------!' },
    verify: ({ context, expect }) => {
      // At frame 7 eight values had arrived and three had started: five waited in concatMap's
      // array. A longer burst makes it longer; nothing bounds it.
      expect(context.backlog.max).toBe(5);
    },
    diagram: { frameWidth: 24 },
  }),
  defineCase({
    id: 'fm-bp-01-library',
    title: '[BP-01] library: boundedBuffer holds at most its capacity and drop-oldest sheds the rest, counted',
    source: { marbles: 'abcdefgh|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: "boundedBuffer({ capacity: 2, overflow: 'drop-oldest' }) → mergeWorkers(job, { concurrency: 1 })",
    context: () => ({ buffer: bufferMonitor(), dropped: [] as string[] }),
    operator:
      ({ inner, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer<string>({
            capacity: 2,
            overflow: 'drop-oldest',
            monitor: context.buffer,
            onDrop: (v) => context.dropped.push(v),
          }),
          mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 1 }),
        ),
    expected: { marbles: '---A--C--F--G--(H|)' },
    subscriptions: { source: '^-------!' },
    verify: ({ context, expect }) => {
      // Never more than two waiting; each eviction is counted and reported (b at 3, d at 5, e at 6).
      expect(context.buffer.snapshot()).toMatchObject({ received: 8, emitted: 5, dropped: 3, highWater: 2 });
      expect(context.dropped).toEqual(['b', 'd', 'e']);
    },
    diagram: { frameWidth: 28 },
  }),

  // ---- BP-02 Hidden unboundedness via a huge buffer ------------------------------------------
  defineCase({
    id: 'fm-bp-02-naive',
    title: '[BP-02] naive: a capacity of 100,000,000 never bites: the whole burst queues and nothing signals it',
    description: 'Bounded on paper only: latency and memory grow with the load long before the bound is reached.',
    source: { marbles: 'abcdefgh|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel:
      "boundedBuffer({ capacity: 100_000_000, overflow: 'error' }) → mergeWorkers(job, { concurrency: 1 })",
    context: () => ({ buffer: bufferMonitor() }),
    operator:
      ({ inner, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer<string>({ capacity: 100_000_000, overflow: 'error', monitor: context.buffer }),
          mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 1 }),
        ),
    expected: { marbles: '---A--B--C--D--E--F--G--(H|)' },
    verify: ({ context, expect }) => {
      // Five values waited at once and none was refused: the "error" policy never fired, and h
      // came out 17 frames after it arrived. Under sustained load this only grows.
      expect(context.buffer.snapshot()).toMatchObject({ received: 8, dropped: 0, discarded: 0, highWater: 5 });
    },
    diagram: { frameWidth: 24 },
  }),
  defineCase({
    id: 'fm-bp-02-library',
    title: '[BP-02] library: a small capacity with the error policy fails loudly at the first value that does not fit',
    source: { marbles: 'abcdefgh|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: "boundedBuffer({ capacity: 2, overflow: 'error' }) → mergeWorkers(job, { concurrency: 1 })",
    context: () => ({ buffer: bufferMonitor() }),
    operator:
      ({ inner, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer<string>({ capacity: 2, overflow: 'error', monitor: context.buffer }),
          mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 1 }),
        ),
    expected: { marbles: '---#', error: new OverflowError('boundedBuffer', 2, 'error') },
    subscriptions: { source: '^--!' },
    verify: ({ context, expect }) => {
      expect(context.buffer.snapshot()).toMatchObject({ received: 4, dropped: 0, highWater: 2 });
    },
  }),

  // ---- BP-03 Spawn-per-request without a limit ------------------------------------------------
  defineCase({
    id: 'fm-bp-03-naive',
    title: '[BP-03] naive: mergeMap without a limit starts a job for every value at once',
    source: { marbles: 'abcdef|' },
    inner: { job: { marbles: '------(x|)' } },
    operatorLabel: 'mergeMap(v => job(v))',
    context: () => ({ jobs: gauge() }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(mergeMap((v) => tracked(context.jobs, inner.job).pipe(map(() => upper(v))))),
    expected: { marbles: '------ABCDE(F|)' },
    subscriptions: {
      inner: { job: ['^-----!', '-^-----!', '--^-----!', '---^-----!', '----^-----!', '-----^-----!'] },
    },
    verify: ({ context, expect }) => {
      // One job per value, all at once: ten thousand requests would be ten thousand jobs.
      expect(context.jobs).toEqual({ now: 0, max: 6, total: 6 });
    },
  }),
  defineCase({
    id: 'fm-bp-03-library',
    title: '[BP-03] library: mergeWorkers runs at most concurrency jobs; the rest wait in a bounded queue',
    source: { marbles: 'abcdef|' },
    inner: { job: { marbles: '------(x|)' } },
    operatorLabel: 'mergeWorkers(job, { concurrency: 2, capacity: 4 })',
    context: () => ({ jobs: gauge() }),
    operator: ({ inner, context }) =>
      mergeWorkers((v: string) => tracked(context.jobs, inner.job).pipe(map(() => upper(v))), {
        concurrency: 2,
        capacity: 4,
      }),
    expected: { marbles: '------AB----CD----E(F|)' },
    subscriptions: {
      inner: {
        job: ['^-----!', '-^-----!', '------^-----!', '-------^-----!', '------------^-----!', '-------------^-----!'],
      },
    },
    verify: ({ context, expect }) => {
      expect(context.jobs).toEqual({ now: 0, max: 2, total: 6 });
    },
  }),

  // ---- BP-04 Forgotten close ------------------------------------------------------------------
  defineCase({
    id: 'fm-bp-04-naive',
    title: '[BP-04] naive: a source that is never completed leaves toArray waiting for ever',
    description: 'The producer forgot complete(): the consumer, like a range loop, never finishes.',
    source: { marbles: 'a-b-c----', kind: 'hot' },
    operatorLabel: 'toArray()',
    context: () => ({ finished: false }),
    pipeline: (source$: Observable<string>, { context }) =>
      source$.pipe(
        toArray(),
        finalize(() => (context.finished = true)),
      ),
    expected: { marbles: '' },
    subscriptions: { source: '^' },
    verify: ({ context, expect }) => {
      expect(context.finished).toBe(false);
    },
  }),
  defineCase({
    id: 'fm-bp-04-library',
    title: '[BP-04] library: drainOnComplete ends the segment on a stop signal, so the consumer finishes',
    description:
      'The stop is the owner-controlled close: the source is released, accepted work finishes, the output completes.',
    source: { marbles: 'a-b-c----', kind: 'hot' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel:
      "drainOnComplete(mergeWorkers(job, { concurrency: 2 }), { stop: '-----s', deadline: 10 }) → toArray()",
    context: () => ({ reports: [] as DrainReport[] }),
    pipeline: (source$: Observable<string>, { inner, hot, scheduler, context }) =>
      source$.pipe(
        drainOnComplete(
          mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), { concurrency: 2 }),
          { stop: hot('-----s'), deadline: 10, scheduler, onReport: (r) => context.reports.push(r) },
        ),
        toArray(),
      ),
    expected: { marbles: '------(x|)', values: { x: ['A', 'B', 'C'] } },
    subscriptions: { source: '^----!' },
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

  // ---- BP-05 Double-close panic ---------------------------------------------------------------
  defineCase({
    id: 'fm-bp-05-library',
    title: '[BP-05] library: channel.close() from two owners is a no-op the second time; the consumer completes once',
    description:
      'A second owner closes at frame 2, the producer closes again when its source completes; c is refused, not lost.',
    source: { marbles: 'ab-c|' },
    operatorLabel: 'channel({ capacity: 4 }): trySend each value, close() at 2 and at the end',
    context: () => ({ refused: [] as string[], closes: 0, completions: 0 }),
    pipeline: (source$: Observable<string>, { scheduler, context }) =>
      defer(() => {
        const ch = channel<string>({ capacity: 4 });
        const close = (): void => {
          context.closes++;
          ch.close();
        };
        scheduler.schedule(close, 2);
        return consumeThenProduce(ch.observable.pipe(finalize(() => context.completions++)), () =>
          source$.subscribe({
            next: (v) => {
              if (!ch.trySend(v)) context.refused.push(v);
            },
            complete: close,
          }),
        );
      }),
    expected: { marbles: 'ab|' },
    subscriptions: { source: '^---!' },
    verify: ({ context, expect }) => {
      expect(context).toEqual({ refused: ['c'], closes: 2, completions: 1 });
    },
  }),

  // ---- BP-06 Blocking send in a handler -------------------------------------------------------
  defineCase({
    id: 'fm-bp-06-library',
    title: '[BP-06] library: a handler that uses trySend answers every request in its own frame, 503 when full',
    description:
      'Requests arrive each frame; one worker takes three frames per job and the channel holds one. No handler waits.',
    source: { marbles: 'abcdef|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: "channel({ capacity: 1 }) → mergeWorkers(job, 1); handler: trySend(req) ? 'ok' : '503'",
    context: () => ({ worked: [] as string[], maxPending: 0 }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      defer(() => {
        const ch = channel<string>({ capacity: 1 });
        ch.observable
          .pipe(mergeWorkers((v: string) => inner.job.pipe(map(() => v)), { concurrency: 1 }))
          .subscribe((v) => context.worked.push(v));
        return source$.pipe(
          map((req) => (ch.trySend(req) ? 'ok' : '503')),
          tap(() => (context.maxPending = Math.max(context.maxPending, ch.pendingSends))),
          finalize(() => ch.close()),
        );
      }),
    expected: { marbles: 'oorror|', values: { o: 'ok', r: '503' } },
    subscriptions: { inner: { job: [held(0, 3), held(3, 3), held(6, 3)] } },
    verify: ({ context, expect }) => {
      expect(context.maxPending).toBe(0);
      expect(context.worked).toEqual(['a', 'b', 'e']);
    },
  }),

  // ---- BP-07 Drop without metric --------------------------------------------------------------
  defineCase({
    id: 'fm-bp-07-naive',
    title: '[BP-07] naive: exhaustMap drops the values that arrive while busy, and nothing counts them',
    source: { marbles: 'abcdefgh|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: 'exhaustMap(v => job(v))',
    context: () => ({ arrived: 0, worked: 0 }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        tap(() => context.arrived++),
        exhaustMap((v) => {
          context.worked++;
          return inner.job.pipe(map(() => upper(v)));
        }),
      ),
    expected: { marbles: '---A---E|' },
    subscriptions: { inner: { job: [held(0, 3), held(4, 3)] } },
    verify: ({ context, expect }) => {
      // Six of eight values vanished. Only this test's own taps can tell: exhaustMap has no
      // counter, callback or log for what it ignores.
      expect(context.arrived - context.worked).toBe(6);
    },
  }),
  defineCase({
    id: 'fm-bp-07-library',
    title: '[BP-07] library: every value the pool sheds is counted in the monitor and passed to onDrop',
    source: { marbles: 'abcdefgh|' },
    inner: { job: { marbles: '---(x|)' } },
    operatorLabel: "mergeWorkers(job, { concurrency: 1, capacity: 1, overflow: 'drop-newest', onDrop, monitor })",
    context: () => ({ monitor: workerMonitor(), dropped: [] as string[] }),
    operator: ({ inner, context }) =>
      mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), {
        concurrency: 1,
        capacity: 1,
        overflow: 'drop-newest',
        onDrop: (v) => context.dropped.push(v),
        monitor: context.monitor,
      }),
    expected: { marbles: '---A--B--E--(H|)' },
    verify: ({ context, expect }) => {
      const stats = context.monitor.snapshot();
      expect(context.dropped).toEqual(['c', 'd', 'f', 'g']);
      expect(stats).toMatchObject({ completed: 4, dropped: 4 });
      expect(stats.completed + stats.dropped).toBe(8); // every arrival is accounted for
    },
    diagram: { frameWidth: 28 },
  }),

  // ---- BP-08 Race between len and act ---------------------------------------------------------
  defineCase({
    id: 'fm-bp-08-naive',
    title: '[BP-08] naive: size < capacity, then an await, then send: both producers pass the check and one blocks',
    description:
      'b and c check at frame 2 and see room; the await (one frame) lets the other act first, so c waits in send.',
    source: { marbles: 'a-(bc)----' },
    operatorLabel: 'if (ch.size < 1) { await tick; await ch.send(v) } → pullEvery(4)',
    context: () => ({ passedCheck: [] as string[], blocked: [] as string[] }),
    pipeline: (source$: Observable<string>, { scheduler, context }) =>
      defer(() => {
        const ch = channel<string>({ capacity: 1 });
        return consumeThenProduce(ch.observable.pipe(pullEvery(4, scheduler)), () =>
          source$.subscribe((v) => {
            if (ch.size >= 1) return; // "full: skip, never block"
            context.passedCheck.push(v);
            scheduler.schedule(() => {
              void ch.send(v).catch(() => undefined);
              if (ch.pendingSends > 0) context.blocked.push(v);
            }, 1);
          }),
        );
      }),
    expected: { marbles: '-a---b---c' },
    verify: ({ context, expect }) => {
      expect(context.passedCheck).toEqual(['a', 'b', 'c']);
      expect(context.blocked).toEqual(['c']);
    },
  }),
  defineCase({
    id: 'fm-bp-08-library',
    title: '[BP-08] library: trySend checks and enqueues in one step, so exactly one of two same-frame offers fits',
    source: { marbles: 'a-(bc)---|' },
    operatorLabel: 'channel({ capacity: 1 }): trySend(v) → pullEvery(4)',
    context: () => ({ refused: [] as string[], maxPending: 0 }),
    pipeline: (source$: Observable<string>, { scheduler, context }) =>
      defer(() => {
        const ch = channel<string>({ capacity: 1 });
        return consumeThenProduce(ch.observable.pipe(pullEvery(4, scheduler)), () =>
          produceInto(
            source$.pipe(tap(() => (context.maxPending = Math.max(context.maxPending, ch.pendingSends)))),
            ch,
            context.refused,
          ),
        );
      }),
    expected: { marbles: 'a---b----|' },
    verify: ({ context, expect }) => {
      expect(context).toEqual({ refused: ['c'], maxPending: 0 });
    },
  }),

  // ---- BP-09 Missing context check in worker --------------------------------------------------
  defineCase({
    id: 'fm-bp-09-naive',
    title: '[BP-09] naive: a worker with no cancellation keeps running all its steps after the unsubscribe',
    description: 'Each job is six one-frame steps started eagerly, like a Promise; unsubscribing at 3 stops none.',
    source: { marbles: 'ab|' },
    operatorLabel: 'mergeMap(v => doWork(v)) (six steps, no signal)',
    context: () => ({ steps: [] as number[] }),
    pipeline: (source$: Observable<string>, { scheduler, context }) =>
      source$.pipe(mergeMap((v) => steppedWork(v, 6, scheduler, context.steps))),
    unsubscribe: '---!',
    expected: { marbles: '' },
    verify: ({ context, expect }) => {
      expect(context.steps.length).toBe(12);
      expect(Math.max(...context.steps)).toBe(7); // four frames after nobody wanted the results
    },
  }),
  defineCase({
    id: 'fm-bp-09-library',
    title: '[BP-09] library: mergeWorkers hands each worker an AbortSignal and aborts it on unsubscribe',
    description: 'The worker checks the signal between steps, as the seed fix checks ctx.Err(); no step runs after 3.',
    source: { marbles: 'ab|' },
    operatorLabel: 'mergeWorkers((v, { signal }) => doWork(v, signal), { concurrency: 2 })',
    context: () => ({ steps: [] as number[], signals: [] as AbortSignal[] }),
    operator: ({ scheduler, context }) =>
      mergeWorkers(
        (v: string, { signal }) => {
          context.signals.push(signal);
          return steppedWork(v, 6, scheduler, context.steps, signal);
        },
        { concurrency: 2 },
      ),
    unsubscribe: '---!',
    expected: { marbles: '' },
    verify: ({ context, expect }) => {
      expect(Math.max(...context.steps)).toBe(2);
      expect(context.signals.map((s) => s.reason instanceof CancelledError && s.reason.reason)).toEqual([
        'unsubscribed',
        'unsubscribed',
      ]);
    },
  }),

  // ---- BP-10 Sending to a closed channel via slow shutdown ------------------------------------
  defineCase({
    id: 'fm-bp-10-naive',
    title: '[BP-10] naive: next() on a completed Subject is silently ignored, so a late submit is lost',
    description: 'Shutdown completes the job Subject at frame 2; the submit of c at 3 returns normally and vanishes.',
    source: { marbles: 'ab-c|' },
    operatorLabel: 'jobs = new Subject(); submit = v => jobs.next(v); shutdown = () => jobs.complete() at 2',
    context: () => ({ submitted: [] as string[] }),
    pipeline: (source$: Observable<string>, { scheduler, context }) =>
      defer(() => {
        const jobs = new Subject<string>();
        scheduler.schedule(() => jobs.complete(), 2);
        return consumeThenProduce(jobs, () =>
          source$.subscribe((v) => {
            jobs.next(v); // no error, no return value: the caller cannot know
            context.submitted.push(v);
          }),
        );
      }),
    expected: { marbles: 'ab|' },
    subscriptions: { source: '^---!' },
    verify: ({ context, expect }) => {
      expect(context.submitted).toEqual(['a', 'b', 'c']);
    },
  }),
  defineCase({
    id: 'fm-bp-10-library',
    title: '[BP-10] library: after close() trySend returns false (send rejects with ClosedError), so the caller knows',
    source: { marbles: 'ab-c|' },
    operatorLabel: 'channel({ capacity: 4 }): submit = trySend(v); shutdown = close() at 2',
    context: () => ({ refused: [] as string[] }),
    pipeline: (source$: Observable<string>, { scheduler, context }) =>
      defer(() => {
        const ch = channel<string>({ capacity: 4 });
        scheduler.schedule(() => ch.close(), 2);
        return consumeThenProduce(ch.observable, () => produceInto(source$, ch, context.refused));
      }),
    expected: { marbles: 'ab|' },
    subscriptions: { source: '^---!' },
    verify: ({ context, expect }) => {
      expect(context.refused).toEqual(['c']);
    },
  }),

  // ---- BP-11 Naive retry that amplifies overload ----------------------------------------------
  defineCase({
    id: 'fm-bp-11-naive',
    title: '[BP-11] naive: retry() with no delay resubscribes at once, every frame, for as long as it runs',
    description: 'One request against a failing call: one attempt per frame, no cap, no backoff, no jitter.',
    source: { marbles: 'a|' },
    inner: { call: { marbles: '-#' } },
    operatorLabel: 'mergeMap(v => call(v).pipe(retry()))',
    pipeline: (source$: Observable<string>, { inner }) => source$.pipe(mergeMap(() => inner.call.pipe(retry()))),
    unsubscribe: '--------!',
    expected: { marbles: '' },
    subscriptions: { inner: { call: Array.from({ length: 8 }, (_, i) => held(i, 1)) } },
    diagram: { frameWidth: 28 },
  }),
  defineCase({
    id: 'fm-bp-11-library',
    title:
      '[BP-11] library: retry is capped at count, backs off exponentially up to maxDelay, with jitter, on the scheduler',
    description:
      'delay 4, maxDelay 10, jitter 0.5, random 0.5, 0.25, 0.4: waits 3, 5 and 7 frames (each in [backoff/2, backoff]), then the error.',
    source: { marbles: 'a|' },
    inner: { call: { marbles: '-#' } },
    operatorLabel: 'mergeWorkers(call, { concurrency: 1, retry: { count: 3, delay: 4, maxDelay: 10, jitter: 0.5 } })',
    context: () => ({ monitor: workerMonitor(), attempts: [] as number[], random: sequence([0.5, 0.25, 0.4]) }),
    operator: ({ inner, scheduler, context }) =>
      mergeWorkers(
        (_v: string, { attempt }) => {
          context.attempts.push(attempt);
          return inner.call;
        },
        {
          concurrency: 1,
          retry: { count: 3, delay: 4, maxDelay: 10, jitter: 0.5, random: context.random },
          scheduler,
          monitor: context.monitor,
        },
      ),
    expected: { marbles: '19ms #' },
    subscriptions: { inner: { call: ['^!', '----^!', '----------^!', '------------------^!'] } },
    verify: ({ context, expect }) => {
      expect(context.attempts).toEqual([1, 2, 3, 4]);
      expect(context.monitor.snapshot()).toMatchObject({ retried: 3, failed: 1, inFlight: 0 });
    },
    diagram: { frameWidth: 28 },
  }),

  // ---- BP-12 Misplaced defer releases the semaphore early -------------------------------------
  defineCase({
    id: 'fm-bp-12-naive',
    title: '[BP-12] naive: a mergeMap inner that fires the job and returns at once frees its slot while the job runs',
    description: 'The limit of 1 counts the acknowledgement, not the work: every job overlaps.',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: 'mergeMap(v => { job(v).subscribe(); return of("queued") }, 1)',
    context: () => ({ jobs: gauge() }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        mergeMap((v) => {
          tracked(context.jobs, inner.job).subscribe();
          return of(v);
        }, 1),
      ),
    expected: { marbles: 'abcd|' },
    subscriptions: { inner: { job: ['^---!', '-^---!', '--^---!', '---^---!'] } },
    verify: ({ context, expect }) => {
      expect(context.jobs.max).toBe(4);
    },
  }),
  defineCase({
    id: 'fm-bp-12-library',
    title: '[BP-12] library: mergeWorkers holds the slot until the returned work completes',
    source: { marbles: 'abcd|' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: 'mergeWorkers(v => job(v), { concurrency: 1 })',
    context: () => ({ jobs: gauge() }),
    operator: ({ inner, context }) =>
      mergeWorkers((v: string) => tracked(context.jobs, inner.job).pipe(map(() => v)), { concurrency: 1 }),
    expected: { marbles: '----a---b---c---(d|)' },
    subscriptions: { inner: { job: ['^---!', '----^---!', '--------^---!', '------------^---!'] } },
    verify: ({ context, expect }) => {
      expect(context.jobs.max).toBe(1);
    },
    diagram: { frameWidth: 28 },
  }),

  // ---- BP-13 Wrong direction of close ---------------------------------------------------------
  defineCase({
    id: 'fm-bp-13-naive',
    title: '[BP-13] naive: a consumer that completes the shared Subject ends the other consumer and loses later sends',
    description:
      'Consumer 1 (lower case) calls jobs.complete() when b arrives; consumer 2 (upper case) ends with it; b, c and d vanish.',
    source: { marbles: 'a---b---c---d---|' },
    operatorLabel: "merge(jobs.pipe(tap(v => v === 'b' && jobs.complete())), jobs.pipe(map(upper)))",
    context: () => ({ sent: [] as string[] }),
    pipeline: (source$: Observable<string>, { context }) =>
      defer(() => {
        const jobs = new Subject<string>();
        const consumer1 = jobs.pipe(tap((v) => v === 'b' && jobs.complete()));
        const consumer2 = jobs.pipe(map(upper));
        return consumeThenProduce(merge(consumer1, consumer2), () =>
          source$.subscribe((v) => {
            jobs.next(v);
            context.sent.push(v);
          }),
        );
      }),
    expected: { marbles: '(aA)|' },
    verify: ({ context, expect }) => {
      expect(context.sent).toEqual(['a', 'b', 'c', 'd']);
    },
  }),
  defineCase({
    id: 'fm-bp-13-library',
    title: '[BP-13] library: a channel consumer can only unsubscribe itself; the producer closes, nothing is lost',
    description:
      'Consumer 1 (lower case) leaves with take(2); consumer 2 (upper case) gets the rest; the producer closes at the end.',
    source: { marbles: 'a---b---c---d---|' },
    operatorLabel: 'merge(ch.observable.pipe(take(2)), ch.observable.pipe(map(upper))); producer: trySend, close()',
    context: () => ({ refused: [] as string[] }),
    pipeline: (source$: Observable<string>, { context }) =>
      defer(() => {
        const ch = channel<string>({ capacity: 4 });
        return consumeThenProduce(merge(ch.observable.pipe(take(2)), ch.observable.pipe(map(upper))), () =>
          produceInto(source$, ch, context.refused),
        );
      }),
    expected: { marbles: 'a---B---c---D---|' },
    verify: ({ context, expect }) => {
      expect(context.refused).toEqual([]);
    },
  }),

  // ---- BP-14 Unbounded inner buffer -----------------------------------------------------------
  defineCase({
    id: 'fm-bp-14-naive',
    title: '[BP-14] naive: mergeMap(fn, 2) bounds the jobs but hides the overflow in an unbounded internal array',
    source: { marbles: 'abcdefgh|' },
    inner: { job: { marbles: '-----(x|)' } },
    operatorLabel: 'mergeMap(v => job(v), 2)',
    context: () => ({ waiting: gauge() }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        tap(() => {
          context.waiting.now++;
          context.waiting.max = Math.max(context.waiting.max, context.waiting.now);
        }),
        mergeMap((v) => {
          context.waiting.now--;
          return inner.job.pipe(map(() => upper(v)));
        }, 2),
      ),
    expected: { marbles: '-----AB---CD---EF---G(H|)' },
    subscriptions: {
      inner: { job: [0, 1, 5, 6, 10, 11, 15, 16].map((start) => held(start, 5)) },
    },
    verify: ({ context, expect }) => {
      expect(context.waiting.max).toBe(4);
    },
    diagram: { frameWidth: 24 },
  }),
  defineCase({
    id: 'fm-bp-14-library',
    title: '[BP-14] library: mergeWorkers bounds the waiting values too, and a full queue errors instead of growing',
    source: { marbles: 'abcdefgh|' },
    inner: { job: { marbles: '-----(x|)' } },
    operatorLabel: "mergeWorkers(job, { concurrency: 2, capacity: 2, overflow: 'error' })",
    operator: ({ inner }) =>
      mergeWorkers((v: string) => inner.job.pipe(map(() => upper(v))), {
        concurrency: 2,
        capacity: 2,
        overflow: 'error',
      }),
    expected: {
      marbles: '----#',
      error: new OverflowError('mergeWorkers', 2, 'error', undefined, {
        advice: IMPLICIT_QUEUE_ADVICE('mergeWorkers', 2, false),
      }),
    },
    subscriptions: { source: '^---!', inner: { job: ['^---!', '-^--!'] } },
  }),

  // ---- BP-15 Hedged request that doubles load -------------------------------------------------
  defineCase({
    id: 'fm-bp-15-naive',
    title: '[BP-15] naive: race(call, call) per value doubles the calls in flight behind a limit of 2',
    source: { marbles: 'abcd|' },
    inner: { call: { marbles: '----(x|)' } },
    operatorLabel: 'mergeMap(v => race(call(v), call(v)), 2)',
    context: () => ({ calls: gauge() }),
    pipeline: (source$: Observable<string>, { inner, context }) =>
      source$.pipe(
        mergeMap(
          (v) => race(tracked(context.calls, inner.call), tracked(context.calls, inner.call)).pipe(map(() => upper(v))),
          2,
        ),
      ),
    expected: { marbles: '----AB--C(D|)' },
    verify: ({ context, expect }) => {
      expect(context.calls).toMatchObject({ max: 4, total: 8 });
    },
  }),
  defineCase({
    id: 'fm-bp-15-library',
    title:
      '[BP-15] library: a hedge is one more unit of work in the same pool of 2: it waits for a free slot, is skipped once answered, and the losing call is cancelled',
    description:
      'Each request yields a primary call and, two frames later, a hedge; both go through one pool (a full queue sheds hedges, counted). a’s primary is slow.',
    source: { marbles: 'ab|' },
    inner: { slow: { marbles: '--------(x|)' }, call: { marbles: '--(x|)' } },
    operatorLabel:
      "requests → [primary, hedge after 2] → mergeWorkers(call, { concurrency: 2, capacity: 1, overflow: 'drop-newest' })",
    context: () => ({
      calls: gauge(),
      answered: new Set<string>(),
      won: new Subject<string>(),
      hedges: [] as [string, number, boolean][],
    }),
    pipeline: (source$: Observable<string>, { inner, scheduler, context }) =>
      source$.pipe(
        mergeMap((v) => concat(of({ v, hedge: false }), timer(2, scheduler).pipe(map(() => ({ v, hedge: true }))))),
        mergeWorkers(
          (item: { v: string; hedge: boolean }) => {
            if (item.hedge) context.hedges.push([item.v, scheduler.now(), !context.answered.has(item.v)]);
            if (context.answered.has(item.v)) return EMPTY; // answered already: the hedge is not sent
            const call = item.v === 'a' && !item.hedge ? inner.slow : inner.call;
            let winner = false;
            return tracked(context.calls, call).pipe(
              takeUntil(context.won.pipe(filter((w) => w === item.v && !winner))), // cancel the loser
              map(() => item.v),
              tap(() => (winner = true)),
            );
          },
          { concurrency: 2, capacity: 1, overflow: 'drop-newest' },
        ),
        filter((v) => !context.answered.has(v)),
        tap((v) => {
          context.answered.add(v);
          context.won.next(v);
        }),
        map(upper),
      ),
    expected: { marbles: '---B-(A|)' },
    subscriptions: { inner: { slow: '^----!', call: ['-^-!', '---^-!'] } },
    verify: ({ context, expect }) => {
      // Never more than two calls in flight, hedges included. a's hedge, due at 2, started at 3
      // when b's call freed a slot, and won; b's hedge found b answered and sent nothing.
      expect(context.calls).toEqual({ now: 0, max: 2, total: 3 });
      expect(context.hedges).toEqual([
        ['a', 3, true],
        ['b', 5, false],
      ]);
    },
  }),

  // ---- BP-16 Sleep-based draining -------------------------------------------------------------
  defineCase({
    id: 'fm-bp-16-naive',
    title: '[BP-16] naive: stop, then "sleep" 5 frames and cut: work still running at that moment is lost',
    source: { marbles: 'ab------', kind: 'hot' },
    inner: { job: { marbles: '----(x|)' }, slow: { marbles: '--------(x|)' } },
    operatorLabel: "takeUntil(stop) → mergeMap(job) → takeUntil(stop.pipe(delay(5)))   stop: '--s'",
    pipeline: (source$: Observable<string>, { inner, hot, scheduler }) => {
      const stop = hot('--s');
      return source$.pipe(
        takeUntil(stop),
        mergeMap((v) => (v === 'a' ? inner.job : inner.slow).pipe(map(() => upper(v)))),
        takeUntil(stop.pipe(delay(5, scheduler))),
      );
    },
    expected: { marbles: '----A--|' },
    subscriptions: { source: '^-!', inner: { job: '^---!', slow: '-^-----!' } },
  }),
  defineCase({
    id: 'fm-bp-16-library',
    title: '[BP-16] library: drainOnComplete completes exactly when the last accepted job is done',
    source: { marbles: 'ab------', kind: 'hot' },
    inner: { job: { marbles: '----(x|)' }, slow: { marbles: '--------(x|)' } },
    operatorLabel: "drainOnComplete(mergeWorkers(job, { concurrency: 2 }), { stop: '--s', deadline: 20 })",
    context: () => ({ reports: [] as DrainReport[] }),
    operator: ({ inner, hot, scheduler, context }) =>
      drainOnComplete(
        mergeWorkers((v: string) => (v === 'a' ? inner.job : inner.slow).pipe(map(() => upper(v))), {
          concurrency: 2,
        }),
        { stop: hot('--s'), deadline: 20, scheduler, onReport: (r) => context.reports.push(r) },
      ),
    expected: { marbles: '----A----(B|)' },
    subscriptions: { source: '^-!', inner: { job: '^---!', slow: '-^-------!' } },
    verify: ({ context, expect }) => {
      expect(context.reports).toEqual([
        {
          outcome: 'drained',
          accepted: 2,
          completed: 2,
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

  // ---- BP-17 Drop-oldest that spins -----------------------------------------------------------
  defineCase({
    id: 'fm-bp-17-library',
    title: '[BP-17] library: drop-oldest evicts exactly one value per arrival into a full queue, no loop',
    source: { marbles: 'abcdefgh|' },
    operatorLabel: "boundedBuffer({ capacity: 1, overflow: 'drop-oldest' }) → pullEvery(4)",
    context: () => ({ monitor: bufferMonitor(), dropped: [] as string[] }),
    operator:
      ({ scheduler, context }) =>
      (source$) =>
        source$.pipe(
          boundedBuffer<string>({
            capacity: 1,
            overflow: 'drop-oldest',
            monitor: context.monitor,
            onDrop: (v) => context.dropped.push(v),
          }),
          pullEvery(4, scheduler),
        ),
    expected: { marbles: 'a---e---(h|)' },
    verify: ({ context, expect }) => {
      expect(context.dropped).toEqual(['b', 'c', 'd', 'f', 'g']);
      expect(context.monitor.snapshot()).toEqual({
        received: 8,
        emitted: 3,
        dropped: 5,
        discarded: 0,
        depth: 0,
        highWater: 1,
      });
    },
  }),

  // ---- BP-18 Adaptive limiter without a floor -------------------------------------------------
  defineCase({
    id: 'fm-bp-18-naive',
    title:
      '[BP-18] naive: a limit halved to 0 gives mergeMap(job, 0): every value is queued for ever, nothing completes',
    source: { marbles: 'abc|' },
    inner: { job: { marbles: '--(x|)' } },
    operatorLabel: 'limit = 2 → 1 → 0 (two overloads, no floor); mergeMap(job, limit)',
    pipeline: (source$: Observable<string>, { inner }) =>
      defer(() => {
        let limit = 2;
        limit = Math.floor(limit / 2); // overload
        limit = Math.floor(limit / 2); // overload again
        return source$.pipe(mergeMap((v) => inner.job.pipe(map(() => upper(v))), limit));
      }),
    expected: { marbles: '' },
    subscriptions: { source: '^--!', inner: { job: [] } },
  }),
  defineCase({
    id: 'fm-bp-18-library',
    title:
      '[BP-18] library: concurrency as an Observable is floored at 1, so a limiter that reaches 0 still makes progress',
    source: { marbles: 'abcdef|' },
    inner: { job: { marbles: '--(x|)' }, limit: { marbles: 'x-y-z|', values: { x: 2, y: 1, z: 0 } } },
    operatorLabel: 'mergeWorkers(job, { concurrency: limit$ })   limit$: 2, 1, 0',
    context: () => ({ jobs: gauge(), activeAtStart: [] as [number, number][] }),
    operator: ({ inner, scheduler, context }) =>
      mergeWorkers(
        (v: string) =>
          tracked(
            context.jobs,
            inner.job.pipe(tap({ subscribe: () => context.activeAtStart.push([scheduler.now(), context.jobs.now]) })),
          ).pipe(map(() => upper(v))),
        { concurrency: inner.limit },
      ),
    expected: { marbles: '--AB-C-D-E-(F|)' },
    subscriptions: { inner: { job: [0, 1, 3, 5, 7, 9].map((start) => held(start, 2)) } },
    verify: ({ context, expect }) => {
      // After the limit hit 0 (frame 4) work went on, one job at a time.
      const afterZero = context.activeAtStart.filter(([frame]) => frame >= 4).map(([, active]) => active);
      expect(afterZero.length > 0 && afterZero.every((n) => n === 1)).toBe(true);
      expect(context.jobs).toMatchObject({ max: 2, total: 6 });
    },
  }),

  // ---- BP-19 Buffer larger than the pool can drain within the latency objective --------------
  defineCase({
    id: 'fm-bp-19-naive',
    title:
      '[BP-19] naive: a queue of 1024 in front of 2 workers: the wait grows as depth / throughput, past the objective',
    description:
      'Jobs take 4 frames, 2 workers: throughput 1 value per 2 frames. The objective is 8 frames per value (4 waiting).',
    source: { marbles: '(abcdefgh|)' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: 'mergeWorkers(job, { concurrency: 2 })   (capacity 1024 by default)',
    context: () => ({ waits: [] as number[] }),
    operator: ({ inner, scheduler, context }) =>
      mergeWorkers(
        (v: string) => {
          context.waits.push(scheduler.now()); // every value arrived at frame 0
          return inner.job.pipe(map(() => upper(v)));
        },
        { concurrency: 2 },
      ),
    expected: { marbles: '----(AB)(CD)(EF)(GH|)' },
    verify: ({ context, expect }) => {
      // The value at queue position p (0-based, behind the 2 running) waits p / throughput.
      expect(context.waits).toEqual([0, 0, 4, 4, 8, 8, 12, 12]);
      expect(context.waits).toEqual(context.waits.map((_, i) => Math.floor(i / 2) * 4));
    },
    diagram: { frameWidth: 28 },
  }),
  defineCase({
    id: 'fm-bp-19-library',
    title:
      '[BP-19] library: capacity sized from the objective, (8 - 4) × 2 / 4 = 2, with drop-oldest: every served value meets it',
    source: { marbles: '(abcdefgh|)' },
    inner: { job: { marbles: '----(x|)' } },
    operatorLabel: "mergeWorkers(job, { concurrency: 2, capacity: (8 - 4) * 2 / 4, overflow: 'drop-oldest' })",
    context: () => ({ waits: [] as number[], monitor: workerMonitor() }),
    operator: ({ inner, scheduler, context }) =>
      mergeWorkers(
        (v: string) => {
          context.waits.push(scheduler.now());
          return inner.job.pipe(map(() => upper(v)));
        },
        { concurrency: 2, capacity: ((8 - 4) * 2) / 4, overflow: 'drop-oldest', monitor: context.monitor },
      ),
    expected: { marbles: '----(AB)(GH|)' },
    verify: ({ context, expect }) => {
      expect(context.waits).toEqual([0, 0, 4, 4]);
      expect(Math.max(...context.waits) + 4 <= 8).toBe(true);
      expect(context.monitor.snapshot()).toMatchObject({ completed: 4, dropped: 4 });
    },
  }),

  // ---- BP-20 Context inherits parent but not deadline -----------------------------------------
  defineCase({
    id: 'fm-bp-20-naive',
    title: '[BP-20] naive: a worker that makes its own AbortController never sees the caller’s deadline',
    description:
      'The caller gives up at frame 4 (takeUntil); the workers check a signal of their own, which nobody aborts.',
    source: { marbles: 'ab|' },
    operatorLabel: 'mergeMap(v => doWork(v, new AbortController().signal)) → takeUntil(timer(4))',
    context: () => ({ steps: [] as number[], signals: [] as AbortSignal[] }),
    pipeline: (source$: Observable<string>, { scheduler, context }) =>
      source$.pipe(
        mergeMap((v) => {
          const own = new AbortController().signal; // a new root: the caller's deadline is not in it
          context.signals.push(own);
          return steppedWork(v, 6, scheduler, context.steps, own);
        }),
        takeUntil(timer(4, scheduler)),
      ),
    expected: { marbles: '----|' },
    verify: ({ context, expect }) => {
      expect(Math.max(...context.steps)).toBe(7);
      expect(context.signals.some((s) => s.aborted)).toBe(false);
    },
  }),
  defineCase({
    id: 'fm-bp-20-library',
    title: '[BP-20] library: drainOnComplete’s deadline reaches every worker’s AbortSignal with reason deadline',
    source: { marbles: 'ab------', kind: 'hot' },
    operatorLabel:
      "drainOnComplete(mergeWorkers((v, { signal }) => doWork(v, signal), { concurrency: 2 }), { stop: '-s', deadline: 3 })",
    context: () => ({ steps: [] as number[], signals: [] as AbortSignal[], reports: [] as DrainReport[] }),
    operator: ({ hot, scheduler, context }) =>
      drainOnComplete(
        mergeWorkers(
          (v: string, { signal }) => {
            context.signals.push(signal);
            return steppedWork(v, 6, scheduler, context.steps, signal);
          },
          { concurrency: 2 },
        ),
        { stop: hot('-s'), deadline: 3, scheduler, onReport: (r) => context.reports.push(r) },
      ),
    expected: { marbles: '----|' },
    verify: ({ context, expect }) => {
      expect(Math.max(...context.steps)).toBe(3);
      expect(context.signals.map((s) => s.reason instanceof CancelledError && s.reason.reason)).toEqual([
        'deadline',
        'deadline',
      ]);
      expect(context.reports).toEqual([
        {
          outcome: 'deadline',
          accepted: 2,
          completed: 0,
          dropped: 0,
          failed: 0,
          aborted: 2,
          neverStarted: 0,
          undelivered: 0,
          unaccounted: 0,
          stages: [{ operator: 'mergeWorkers', dropped: 0, failed: 0, aborted: 2, neverStarted: 0, undelivered: 0 }],
        },
      ]);
    },
  }),
]);
