// The cases: for each, our implementation(s), the peers a user would reach for instead, and the
// hand-written floor. Every implementation feeds the same probe with the same results.
import { Readable } from 'node:stream';
import { Effect, Stream } from 'effect';
import pLimit from 'p-limit';
import pMap, { pMapIterable } from 'p-map';
import { bufferCount, concatMap, from, groupBy, mergeMap, of, range } from 'rxjs';
import { broadcastImpls } from './broadcast.js';
import { eachValueFrom } from 'rxjs-for-await';
import { RING_OVER_SOURCE, type CaseDef, type Impl, type Probe } from './harness.js';
import type { Library } from './library.js';
import {
  asyncNumbers,
  drain,
  drainIterable,
  jitterWork,
  numbers,
  promiseWork,
  resolvedWork,
  timerWork,
} from './work.js';

type AsyncWork = (x: number) => Promise<number>;

// The library under test, set by makeCases (built by tsup, see library.ts).
let lib: Library;

const OURS = 'rxjs-backpressure';
const LIMIT_REASON = 'not run at this size, to keep the full run under ~10 minutes';

/** p-limit as its README shows it: every value wrapped in limit() up front, then Promise.all. */
async function viaPLimit(n: number, c: number, probe: Probe, work: AsyncWork): Promise<void> {
  const limit = pLimit(c);
  const all: Promise<void>[] = new Array<Promise<void>>(n);
  for (let i = 0; i < n; i++) all[i] = limit(() => work(i).then(probe.take));
  try {
    await Promise.all(all);
  } finally {
    limit.clearQueue();
  }
}

/**
 * A pool of c async loops taking the next value from one shared iterator (the same generator
 * ours reads): no library, no queue.
 */
async function handPool(n: number, c: number, probe: Probe, work: AsyncWork): Promise<void> {
  const values = numbers(n);
  const loop = async (): Promise<void> => {
    for (let next = values.next(); next.done !== true; next = values.next()) {
      probe.take(await work(next.value));
    }
  };
  const loops: Promise<void>[] = [];
  for (let k = 0; k < c; k++) loops.push(loop());
  await Promise.all(loops);
}

/** In input order with c in flight: start work, and once c are running await the oldest. */
async function handOrdered(n: number, c: number, probe: Probe, work: AsyncWork): Promise<void> {
  const ring: Promise<number>[] = new Array<Promise<number>>(c);
  let head = 0;
  for (let i = 0; i < n; i++) {
    if (i >= c) probe.take(await ring[head]!);
    ring[head] = work(i);
    head = (head + 1) % c;
  }
  await drainRing(ring, head, n, probe);
}

/** What is left in a ring once the input ends, oldest first: at head once it is full, else from 0. */
async function drainRing(ring: Promise<number>[], head: number, started: number, probe: Probe): Promise<void> {
  const c = ring.length;
  let at = started < c ? 0 : head;
  for (let k = 0; k < Math.min(c, started); k++) {
    probe.take(await ring[at]!);
    at = (at + 1) % c;
  }
}

/**
 * The same ring, taking its values from an iterator: the generator ours reads, so that reading it
 * is on both sides (the ring above counts instead, which the c async loops of handPool do not).
 */
async function handOrderedOver(values: Iterator<number>, c: number, probe: Probe, work: AsyncWork): Promise<void> {
  const ring: Promise<number>[] = new Array<Promise<number>>(c);
  let head = 0;
  let started = 0;
  for (let next = values.next(); next.done !== true; next = values.next()) {
    if (started >= c) probe.take(await ring[head]!);
    ring[head] = work(next.value);
    head = (head + 1) % c;
    started++;
  }
  await drainRing(ring, head, started, probe);
}

const effectMap = (n: number, c: number, probe: Probe, work: AsyncWork, unordered: boolean): Promise<void> =>
  Effect.runPromise(
    Stream.fromIterable(numbers(n)).pipe(
      Stream.mapEffect((x) => Effect.promise(() => work(x)), { concurrency: c, unordered }),
      Stream.runForEach((r) => Effect.sync(() => probe.take(r))),
    ),
  );

const OUR_PER_VALUE =
  'Per value, ours reuses a finished task, allocates a work context, attaches the task\u2019s own pair of ' +
  'callbacks (made once per task) to the worker\u2019s promise, and takes a turn of the pump, which polls the ' +
  'next value from the fused source only once a slot is free.';

const WHY_P_MAP =
  'p-map keeps a counter of running mappers and calls the next mapper from the previous one\u2019s ' +
  'settlement: one promise and one closure per value. It gives up cancelling running work (no signal) and, for ' +
  'pMap, streaming (every result is collected into one array of N).';
const WHY_READABLE =
  'Readable.map runs the mapper inside one async function over a small ring of pending promises: one promise ' +
  'per value, no subscriptions.';
const WHY_P_LIMIT =
  'p-limit wraps every value in a closure up front and starts the next one from each settlement: one promise ' +
  'and one closure per value. It falls behind as N grows because all N pending promises stay on the heap.';
const WHY_MERGE_MAP =
  'mergeMap makes one inner subscription per value and no demand round trip. At small N its buffer is short, ' +
  'so the Array.shift that drains it is cheap; the cost of that shift grows with the buffer, which is why ' +
  'mergeMap falls behind as N grows.';
const SHIFT_SLOWER =
  'range pushes all N values into its buffer at once, and each completion takes the next with Array.shift, ' +
  'which moves the whole remaining buffer once the array is large: the cost per value grows with N (see the ' +
  '\u00d7 previous N column, 10 is linear).';
const WHY_EFFECT_SLOWER =
  'Each value runs as its own fiber around an Effect.promise, forked, joined and scheduled by Effect\u2019s ' +
  'runtime: several times the per-value work of ours.';
const WHY_READABLE_SLOWER =
  'Each result also goes through the stream machinery: pushed into the mapped Readable\u2019s buffer and read ' +
  'out again by its async iterator, one promise per read.';
const WHY_FLOOR = 'The floor: no library, nothing but the work and the loop.';

/** The fast-producer, slow-work case for one kind of work. */
function slowWork(
  id: string,
  title: string,
  work: AsyncWork,
  describeWork: string,
  runs: CaseDef['runs'],
  note: string,
): CaseDef {
  const impls: Impl[] = [
    {
      impl: OURS,
      variant: 'fromPull + mergeWorkers',
      ours: true,
      primary: true,
      run: (n, c, p) => drain(lib.fromPull(numbers(n)).pipe(lib.mergeWorkers(work, { concurrency: c })), p.take),
    },
    {
      impl: OURS,
      variant: 'fromPull + boundedBuffer(block) + mergeWorkers',
      ours: true,
      maxN: 100_000,
      maxNReason: LIMIT_REASON,
      run: (n, c, p) =>
        drain(
          lib
            .fromPull(numbers(n))
            .pipe(lib.boundedBuffer({ capacity: 1024, overflow: 'block' }), lib.mergeWorkers(work, { concurrency: c })),
          p.take,
        ),
    },
    {
      impl: OURS,
      variant: "range + boundedBuffer({ capacity: N, overflow: 'error' }) + mergeWorkers",
      ours: true,
      maxN: 100_000,
      maxNReason: LIMIT_REASON,
      whyHeap:
        'a push source cannot be paused: a synchronous one hands over all N values at once, so all of them wait in ' +
        'the buffer (capacity N; any less and the error policy fails the stream, a drop policy loses values).',
      run: (n, c, p) =>
        drain(
          range(0, n).pipe(
            lib.boundedBuffer({ capacity: n, overflow: 'error' }),
            lib.mergeWorkers(work, { concurrency: c }),
          ),
          p.take,
        ),
    },
    {
      impl: 'rxjs',
      variant: 'range + mergeMap(work, c)',
      whyFaster: WHY_MERGE_MAP,
      whySlower: SHIFT_SLOWER,
      whyHeap: 'range pushes all N values at once; mergeMap buffers them in an array.',
      run: (n, c, p) => drain(range(0, n).pipe(mergeMap(work, c)), p.take),
    },
    {
      impl: 'p-limit',
      variant: 'limit() per value + Promise.all',
      whyFaster: WHY_P_LIMIT,
      whySlower:
        'All N calls are queued up front, each holding a closure and a pending promise, so the heap and the garbage collector\u2019s work grow with N.',
      whyHeap: 'every value is wrapped in a pending promise up front.',
      run: (n, c, p) => viaPLimit(n, c, p, work),
    },
    {
      impl: 'p-map',
      variant: 'pMap(iterable, work)',
      whyFaster: WHY_P_MAP,
      whyHeap: 'pMap returns every result in one array of N.',
      run: async (n, c, p) => {
        await pMap(numbers(n), async (x) => p.take(await work(x)), { concurrency: c });
      },
    },
    {
      impl: 'p-map',
      variant: 'pMapIterable(iterable, work, unordered)',
      whyFaster: WHY_P_MAP,
      run: (n, c, p) => drainIterable(pMapIterable(numbers(n), work, { concurrency: c, preserveOrder: false }), p),
    },
    {
      impl: 'node:stream',
      variant: 'Readable.from(iterable).map(work, { concurrency })',
      whyFaster: WHY_READABLE,
      whySlower: WHY_READABLE_SLOWER,
      run: (n, c, p) => drainIterable(Readable.from(numbers(n)).map(work, { concurrency: c }), p),
    },
    {
      impl: 'effect',
      variant: 'Stream.mapEffect(work, { concurrency, unordered })',
      whyFaster: 'Effect runs each value as a fiber; it is not expected to win here, and a win would be noise.',
      whySlower: WHY_EFFECT_SLOWER,
      whyHeap: 'mapEffect forks a fiber per value, and the fibers finished but not yet collected pile up.',
      run: (n, c, p) => effectMap(n, c, p, work, true),
    },
    {
      impl: 'hand-written',
      variant: 'c async loops on a shared iterator',
      whyFaster: WHY_FLOOR,
      run: (n, c, p) => handPool(n, c, p, work),
    },
  ];
  return {
    id,
    title,
    description:
      `A synchronous source of N numbers (as fast as it is read) and ${describeWork}, run at ` +
      'concurrency 4 and 16; results are consumed as they finish (order not required).',
    runs,
    note,
    oursPerValue: OUR_PER_VALUE,
    ordered: false,
    impls,
  };
}

const ordered: CaseDef = {
  id: 'ordered',
  title: 'Ordered results',
  description:
    'The same fast source, with work that takes 1 to 4 microtask hops (so values finish out of ' +
    'order), and results required in input order.',
  runs: [
    { concurrency: 4, sizes: [10_000, 100_000, 1_000_000], peersUpTo: 100_000 },
    { concurrency: 16, sizes: [10_000, 100_000] },
  ],
  note:
    'N=10^6 runs at concurrency 4 for ours and the hand-written floor only (for the floor target), to keep the ' +
    'full run near ten minutes.',
  oursPerValue: OUR_PER_VALUE.replace('.', ', and holds each result in the reorder window until its turn.'),
  ordered: true,
  impls: [
    {
      impl: OURS,
      variant: 'fromPull + orderedMerge',
      ours: true,
      primary: true,
      run: (n, c, p) => drain(lib.fromPull(numbers(n)).pipe(lib.orderedMerge(jitterWork, { concurrency: c })), p.take),
    },
    {
      impl: 'rxjs',
      variant: 'range + concatMap(work) (concurrency 1)',
      whyFaster: WHY_MERGE_MAP.replace('mergeMap', 'concatMap (mergeMap with concurrency 1)'),
      whySlower: SHIFT_SLOWER,
      whyHeap: 'range pushes all N values at once; concatMap buffers them in an array.',
      run: (n, _c, p) => drain(range(0, n).pipe(concatMap(jitterWork)), p.take),
    },
    {
      impl: 'p-map',
      variant: 'pMap(iterable, work) then read the array',
      whyFaster: WHY_P_MAP,
      whyHeap: 'pMap returns every result in one array of N.',
      run: async (n, c, p) => {
        const results = await pMap(numbers(n), jitterWork, { concurrency: c });
        for (const r of results) p.take(r);
      },
    },
    {
      impl: 'p-map',
      variant: 'pMapIterable(iterable, work)',
      whyFaster: WHY_P_MAP,
      run: (n, c, p) => drainIterable(pMapIterable(numbers(n), jitterWork, { concurrency: c }), p),
    },
    {
      impl: 'node:stream',
      variant: 'Readable.from(iterable).map(work, { concurrency })',
      whyFaster: WHY_READABLE,
      whySlower: WHY_READABLE_SLOWER,
      run: (n, c, p) => drainIterable(Readable.from(numbers(n)).map(jitterWork, { concurrency: c }), p),
    },
    {
      impl: 'effect',
      variant: 'Stream.mapEffect(work, { concurrency })',
      whyFaster: 'Effect runs each value as a fiber; it is not expected to win here, and a win would be noise.',
      whySlower: WHY_EFFECT_SLOWER,
      run: (n, c, p) => effectMap(n, c, p, jitterWork, false),
    },
    {
      impl: 'hand-written',
      variant: 'ring of c promises, awaited oldest first',
      whyFaster: WHY_FLOOR,
      run: (n, c, p) => handOrdered(n, c, p, jitterWork),
    },
  ],
};

const FLOOR_SIZES = [10_000, 100_000, 1_000_000];
const FLOOR_NOTE =
  'The work is `x => Promise.resolve(x)`, as in issue 12 and examples/measure-mergemap.ts, so that what is ' +
  'measured is the plumbing. At 10^6 only ours and the hand-written floor run, to keep the run short.';

const resolved: CaseDef = {
  id: 'resolved-work',
  title: 'Floor: a resolved promise per value',
  description:
    'A synchronous source of N numbers and work that returns an already resolved promise, at concurrency 4 ' +
    'and 16; results consumed as they finish.',
  note: FLOOR_NOTE,
  oursPerValue: OUR_PER_VALUE,
  runs: [
    { concurrency: 4, sizes: FLOOR_SIZES, peersUpTo: 100_000 },
    { concurrency: 16, sizes: FLOOR_SIZES, peersUpTo: 100_000 },
  ],
  ordered: false,
  impls: [
    {
      impl: OURS,
      variant: 'fromPull + mergeWorkers',
      ours: true,
      primary: true,
      run: (n, c, p) =>
        drain(lib.fromPull(numbers(n)).pipe(lib.mergeWorkers(resolvedWork, { concurrency: c })), p.take),
    },
    {
      impl: 'rxjs',
      variant: 'range + mergeMap(work, c)',
      whyFaster: WHY_MERGE_MAP,
      whySlower: SHIFT_SLOWER,
      run: (n, c, p) => drain(range(0, n).pipe(mergeMap(resolvedWork, c)), p.take),
    },
    {
      impl: 'p-map',
      variant: 'pMapIterable(iterable, work, unordered)',
      whyFaster: WHY_P_MAP,
      run: (n, c, p) =>
        drainIterable(pMapIterable(numbers(n), resolvedWork, { concurrency: c, preserveOrder: false }), p),
    },
    {
      impl: 'hand-written',
      variant: 'c async loops on a shared iterator',
      whyFaster: WHY_FLOOR,
      run: (n, c, p) => handPool(n, c, p, resolvedWork),
    },
  ],
};

const resolvedOrdered: CaseDef = {
  id: 'resolved-ordered',
  title: 'Floor: a resolved promise per value, in order',
  description: 'The same source and work, with results required in input order, at concurrency 4.',
  note: FLOOR_NOTE,
  oursPerValue: OUR_PER_VALUE.replace('.', ', and holds each result in the reorder window until its turn.'),
  runs: [{ concurrency: 4, sizes: FLOOR_SIZES, peersUpTo: 100_000 }],
  ordered: true,
  impls: [
    {
      impl: OURS,
      variant: 'fromPull + orderedMerge',
      ours: true,
      primary: true,
      run: (n, c, p) =>
        drain(lib.fromPull(numbers(n)).pipe(lib.orderedMerge(resolvedWork, { concurrency: c })), p.take),
    },
    {
      impl: 'p-map',
      variant: 'pMapIterable(iterable, work)',
      whyFaster: WHY_P_MAP,
      run: (n, c, p) => drainIterable(pMapIterable(numbers(n), resolvedWork, { concurrency: c }), p),
    },
    {
      impl: 'hand-written',
      variant: 'ring of c promises, awaited oldest first',
      whyFaster: WHY_FLOOR,
      run: (n, c, p) => handOrdered(n, c, p, resolvedWork),
    },
    {
      impl: 'hand-written',
      variant: RING_OVER_SOURCE,
      whyFaster: WHY_FLOOR,
      run: (n, c, p) => handOrderedOver(numbers(n), c, p, resolvedWork),
    },
  ],
};

const SYNC_SIZES = [10_000, 100_000, 1_000_000];

const syncMerge: CaseDef = {
  id: 'sync-mergeWorkers',
  title: 'Synchronous overhead: mergeWorkers',
  description:
    'Pure plumbing cost: N numbers through a pool of 4 whose work is synchronous (`of(x)`), ' +
    'against mergeMap with the same inner.',
  runs: [{ concurrency: 4, sizes: SYNC_SIZES }],
  oursPerValue:
    'Per value, ours reuses a finished task, allocates a work context, subscribes the inner `of(x)` with the ' +
    'task\u2019s own subscriber (in hand before the inner emits, so a synchronous inner can be stopped mid-burst; ' +
    'it frees the slot only after the inner\u2019s own teardown), and takes the next value from the bounded queue ' +
    'that absorbs `range` only once a slot is free.',
  ordered: false,
  impls: [
    {
      impl: OURS,
      variant: 'range + mergeWorkers(x => of(x))',
      ours: true,
      primary: true,
      run: (n, c, p) => drain(range(0, n).pipe(lib.mergeWorkers((x: number) => of(x), { concurrency: c })), p.take),
    },
    {
      impl: OURS,
      variant: 'fromPull + mergeWorkers(x => of(x))',
      ours: true,
      run: (n, c, p) =>
        drain(lib.fromPull(numbers(n)).pipe(lib.mergeWorkers((x: number) => of(x), { concurrency: c })), p.take),
    },
    {
      impl: 'rxjs',
      variant: 'range + mergeMap(x => of(x), 4)',
      whyFaster:
        'With a synchronous inner, mergeMap subscribes, receives and completes each inner in one ' +
        'call stack and never queues: one inner subscription per value and nothing else.',
      run: (n, c, p) => drain(range(0, n).pipe(mergeMap((x) => of(x), c)), p.take),
    },
    {
      impl: 'hand-written',
      variant: 'for loop',
      whyFaster: WHY_FLOOR,
      run: (n, _c, p) => {
        for (let i = 0; i < n; i++) p.take(i);
      },
    },
  ],
};

const KEYS = 16;

const keyed: CaseDef = {
  id: 'keyed',
  title: 'Keyed concurrency: one value of a key at a time, keys in parallel',
  description:
    `N numbers with ${KEYS} keys (\`x % ${KEYS}\`), work that resolves after one microtask: ours with \`key\` against ` +
    'the hand version RxJS users write, `groupBy` + `concatMap` inside `mergeMap`. Its groups are never ' +
    'released and each holds every value of its key that has not been worked yet.',
  runs: [{ concurrency: 4, sizes: [10_000, 100_000] }],
  ordered: false,
  impls: [
    {
      impl: OURS,
      variant: `fromPull + mergeWorkers(work, { concurrency, key: x => x % ${KEYS} })`,
      ours: true,
      primary: true,
      run: (n, c, p) =>
        drain(
          lib
            .fromPull(numbers(n))
            .pipe(lib.mergeWorkers(promiseWork, { concurrency: c, key: (x: number) => x % KEYS })),
          p.take,
        ),
    },
    {
      impl: 'rxjs',
      variant: `range + groupBy(x => x % ${KEYS}) + mergeMap(g => g.pipe(concatMap(work)))`,
      whyHeap:
        'groupBy pushes every value into its group at once, and concatMap queues what its key has not ' +
        'worked yet: the whole input is held, in 16 unbounded queues. The concurrency is the number of keys, ' +
        'since a group that mergeMap did not subscribe to yet would lose its values.',
      run: (n, _c, p) =>
        drain(
          range(0, n).pipe(
            groupBy((x) => x % KEYS),
            mergeMap((g) => g.pipe(concatMap(promiseWork))),
          ),
          p.take,
        ),
    },
    {
      impl: 'hand-written',
      variant: 'c async loops on a shared iterator (no keys: the cost of the work alone)',
      whyFaster: WHY_FLOOR,
      run: (n, c, p) => handPool(n, c, p, promiseWork),
    },
  ],
};

const broadcastCase = (): CaseDef => ({
  id: 'broadcast',
  title: 'Broadcast with backpressure: two consumers of one pausable source',
  description:
    'A fast consumer (a plain sum) and a slow one (async work at concurrency 1) read one source: ours with ' +
    '`broadcast` reads it at the slow one\u2019s pace; `share()` reads everything and the slow consumer queues it.',
  runs: [{ concurrency: null, sizes: [10_000, 100_000] }],
  ordered: false,
  impls: [
    ...broadcastImpls(lib),
    {
      impl: 'hand-written',
      variant: 'one loop: add to the sum, then await the slow work',
      whyFaster: WHY_FLOOR,
      run: async (n, _c, p) => {
        let sum = 0;
        for (let i = 0; i < n; i++) {
          sum += i;
          p.take(await Promise.resolve(i));
        }
        if (sum !== (n * (n - 1)) / 2) throw new Error('broadcast floor: wrong sum');
      },
    },
  ],
});

const BATCH = 100;

const syncBatch: CaseDef = {
  id: 'sync-batchFresh',
  title: 'Synchronous overhead: batchFresh',
  description: `N numbers into batches of ${BATCH}; the consumer reads each batch's length.`,
  runs: [{ concurrency: null, sizes: SYNC_SIZES }],
  oursPerValue:
    'Per value, ours counts it, pushes it into the batch and checks whether the batch is full; the demand ' +
    'kernel\u2019s drain loop runs once per batch (and whenever a pausable source must be asked for more).',
  ordered: false,
  impls: [
    {
      impl: OURS,
      variant: `range + batchFresh({ size: ${BATCH} })`,
      ours: true,
      primary: true,
      run: (n, _c, p) => drain(range(0, n).pipe(lib.batchFresh({ size: BATCH })), (b) => p.take(b.length)),
    },
    {
      impl: OURS,
      variant: `fromPull + batchFresh({ size: ${BATCH} })`,
      ours: true,
      run: (n, _c, p) => drain(lib.fromPull(numbers(n)).pipe(lib.batchFresh({ size: BATCH })), (b) => p.take(b.length)),
    },
    {
      impl: 'rxjs',
      variant: `range + bufferCount(${BATCH})`,
      whyFaster:
        'bufferCount pushes into an array and emits it when full: no demand accounting, no ' +
        'timer bookkeeping, no monitor.',
      run: (n, _c, p) => drain(range(0, n).pipe(bufferCount(BATCH)), (b) => p.take(b.length)),
    },
    {
      impl: 'hand-written',
      variant: 'for loop filling arrays',
      whyFaster: WHY_FLOOR,
      run: (n, _c, p) => {
        let batch: number[] = [];
        for (let i = 0; i < n; i++) {
          batch.push(i);
          if (batch.length === BATCH) {
            p.take(batch.length);
            batch = [];
          }
        }
        if (batch.length > 0) p.take(batch.length);
      },
    },
  ],
};

const syncBuffer: CaseDef = {
  id: 'sync-boundedBuffer',
  title: 'Synchronous overhead: boundedBuffer',
  description: 'N numbers through boundedBuffer to an ordinary subscriber, against no operator at all.',
  runs: [{ concurrency: null, sizes: SYNC_SIZES }],
  ordered: false,
  impls: [
    {
      impl: OURS,
      variant: "range + boundedBuffer({ capacity: 1024, overflow: 'drop-newest' })",
      ours: true,
      primary: true,
      run: (n, _c, p) =>
        drain(range(0, n).pipe(lib.boundedBuffer({ capacity: 1024, overflow: 'drop-newest' })), p.take),
    },
    {
      impl: OURS,
      variant: "fromPull + boundedBuffer({ capacity: 1024, overflow: 'block' })",
      ours: true,
      run: (n, _c, p) =>
        drain(lib.fromPull(numbers(n)).pipe(lib.boundedBuffer({ capacity: 1024, overflow: 'block' })), p.take),
    },
    {
      impl: 'rxjs',
      variant: 'range, no operator',
      whyFaster: 'No operator at all: this row is the cost of range and the subscriber alone.',
      run: (n, _c, p) => drain(range(0, n), p.take),
    },
    {
      impl: 'hand-written',
      variant: 'for loop',
      whyFaster: WHY_FLOOR,
      run: (n, _c, p) => {
        for (let i = 0; i < n; i++) p.take(i);
      },
    },
  ],
};

const syncFromPull: CaseDef = {
  id: 'sync-fromPull',
  title: 'Synchronous overhead: fromPull over an array',
  description: 'N numbers from an array through fromPull to an ordinary subscriber, against RxJS\u2019s `from`.',
  runs: [{ concurrency: null, sizes: SYNC_SIZES }],
  ordered: true,
  impls: [
    {
      impl: OURS,
      variant: 'fromPull(array)',
      ours: true,
      primary: true,
      run: (n, _c, p) => drain(lib.fromPull(arrayOf(n)), p.take),
    },
    {
      impl: 'rxjs',
      variant: 'from(array)',
      whyFaster: 'from(array) is a for loop over the array that checks `subscriber.closed`: no demand accounting.',
      run: (n, _c, p) => drain(from(arrayOf(n)), p.take),
    },
    {
      impl: 'hand-written',
      variant: 'for loop over the array',
      whyFaster: WHY_FLOOR,
      run: (n, _c, p) => {
        const array = arrayOf(n);
        for (let i = 0; i < array.length; i++) p.take(array[i]!);
      },
    },
  ],
};

/** The input array of the fromPull case, made once per size (its making is not what is timed). */
const arrays = new Map<number, readonly number[]>();
function arrayOf(n: number): readonly number[] {
  let array = arrays.get(n);
  if (array === undefined) {
    array = Array.from({ length: n }, (_, i) => i);
    arrays.set(n, array);
  }
  return array;
}

const forAwait: CaseDef = {
  id: 'for-await',
  title: 'for await over an Observable',
  description: 'A `for await` loop reading N numbers from an Observable.',
  runs: [{ concurrency: null, sizes: SYNC_SIZES }],
  ordered: true,
  impls: [
    {
      impl: OURS,
      variant: 'toAsyncIterable(fromPull(iterable))',
      ours: true,
      primary: true,
      run: (n, _c, p) => drainIterable(lib.toAsyncIterable(lib.fromPull(numbers(n))), p),
    },
    {
      impl: OURS,
      variant: 'toAsyncIterable(range, { capacity: N })',
      ours: true,
      whyHeap: 'range pushes all N values at once, so all N wait in the buffer (capacity N).',
      run: (n, _c, p) => drainIterable(lib.toAsyncIterable(range(0, n), { capacity: n }), p),
    },
    {
      impl: 'rxjs-for-await',
      variant: 'eachValueFrom(range)',
      whyFaster:
        'eachValueFrom takes values from a plain array buffer with no demand accounting; at small N its ' +
        'Array.shift is cheap.',
      whySlower: SHIFT_SLOWER.replace('each completion takes the next', 'each iteration of the loop takes the next'),
      whyHeap: 'range pushes all N values at once; eachValueFrom buffers all of them.',
      run: (n, _c, p) => drainIterable(eachValueFrom(range(0, n)), p),
    },
    {
      impl: 'hand-written',
      variant: 'for await over an async generator',
      whyFaster: WHY_FLOOR,
      run: (n, _c, p) => drainIterable(asyncNumbers(n), p),
    },
  ],
};

/**
 * Points the cases at another build of the library: their implementations read it when they run,
 * so bench/ab.ts can run the same functions against two builds in turn.
 */
export function useLibrary(library: Library): void {
  lib = library;
}

/** The cases, run against the given build of the library. */
export function makeCases(library: Library): readonly CaseDef[] {
  lib = library;
  // Made before any run, so that no timed run pays for making its input.
  for (const n of [1_000, 10_000, ...SYNC_SIZES]) arrayOf(n);
  return [
    slowWork(
      'slow-work-promise',
      'Fast producer, slow work (promise)',
      promiseWork,
      'work that resolves after one microtask (`await Promise.resolve()`)',
      [
        { concurrency: 4, sizes: [10_000, 100_000, 1_000_000] },
        { concurrency: 16, sizes: [10_000, 100_000, 1_000_000], peersUpTo: 100_000 },
      ],
      'N=10^6 runs at concurrency 4 for our primary variant and the peers that finish in time: it is where the ' +
        'time-linear and flat-heap targets are checked. At concurrency 16, 10^6 runs ours and the hand-written ' +
        'floor only (for the floor target); one more 10^6 run per peer would push the full run well past ten minutes.',
    ),
    slowWork(
      'slow-work-timer',
      'Fast producer, slow work (timer)',
      timerWork,
      'work that resolves on the next turn of the event loop (`setImmediate`)',
      [
        { concurrency: 4, sizes: [10_000, 100_000, 1_000_000], peersUpTo: 100_000 },
        { concurrency: 16, sizes: [10_000, 100_000] },
      ],
      'N=10^6 runs at concurrency 4 for ours and the hand-written floor only (for the floor target): each value ' +
        'costs a turn of the event loop here, and the peers at 10^6 would push the full run well past ten minutes.',
    ),
    ordered,
    resolved,
    resolvedOrdered,
    syncMerge,
    syncBatch,
    syncBuffer,
    syncFromPull,
    forAwait,
    keyed,
    broadcastCase(),
  ];
}
