/**
 * Property suite (issue 6): every operator, alone and composed, on random timelines in virtual
 * time. Each case is a pipeline spec (pipeline.ts) run with a spy on every hop; the invariants
 * are checked by `checkPipeline`. `FC_RUNS` sets the cases per property (default 200);
 * `FC_SEED` and `FC_PATH` replay a reported failure (with `-t` naming the property).
 */
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { of, type OperatorFunction } from 'rxjs';
import {
  batchFresh,
  boundedBuffer,
  drainOnComplete,
  fromPull,
  mergeWorkers,
  orderedMerge,
  type DemandHandle,
} from '../../index.js';
import { demandProtocolOf } from '../../lib/core/protocol.js';
import { fcParams } from './harness.js';
import {
  batchArb,
  bufferArb,
  checkPipeline,
  consumerArb,
  drainArb,
  knownBug,
  poolArb,
  sourceArb,
  unsubscribeArb,
  type PipelineSpec,
} from './pipeline.js';

function holds(spec: PipelineSpec): void {
  fc.pre(knownBug(spec) === undefined);
  const violations = checkPipeline(spec);
  if (violations.length > 0) throw new Error(violations.join('\n'));
}

const none = fc.constant(undefined);

/** The properties, exported so that the docs can count them. */
export const PROPERTIES: readonly [string, fc.Arbitrary<PipelineSpec>][] = [
  [
    'boundedBuffer alone: conservation, depth <= capacity, FIFO, first error, no leaks',
    fc.record({
      source: sourceArb,
      buffer: bufferArb,
      native: fc.constant(false),
      pool: none,
      batch: none,
      drain: none,
      consumer: consumerArb,
      unsubscribeAt: unsubscribeArb,
    }),
  ],
  [
    'mergeWorkers alone: conservation, in flight <= concurrency, first error, aborted or finished, no leaks',
    fc.record({
      source: sourceArb,
      buffer: none,
      native: fc.constant(false),
      pool: poolArb(false),
      batch: none,
      drain: none,
      consumer: consumerArb,
      unsubscribeAt: unsubscribeArb,
    }),
  ],
  [
    'orderedMerge alone: input order, window, conservation, first error, no leaks',
    fc.record({
      source: sourceArb,
      buffer: none,
      native: fc.constant(false),
      pool: poolArb(true),
      batch: none,
      drain: none,
      consumer: consumerArb,
      unsubscribeAt: unsubscribeArb,
    }),
  ],
  [
    'batchFresh alone: batches of 1..size in order, pending <= maxPending, conservation, no leaked timer',
    fc.record({
      source: sourceArb,
      buffer: none,
      native: fc.constant(false),
      pool: none,
      batch: batchArb,
      drain: none,
      consumer: consumerArb,
      unsubscribeAt: unsubscribeArb,
    }),
  ],
  [
    'drainOnComplete around a worker pool: the report accounts for every accepted value, deadline aborts, no leaks',
    fc.record({
      source: sourceArb,
      buffer: fc.option(bufferArb, { nil: undefined }),
      native: fc.constant(false),
      pool: poolArb(undefined),
      batch: none,
      drain: drainArb,
      consumer: consumerArb,
      unsubscribeAt: unsubscribeArb,
    }),
  ],
  [
    'composed: source -> boundedBuffer -> (map) -> mergeWorkers|orderedMerge -> batchFresh, drained or not',
    fc.record({
      source: sourceArb,
      buffer: bufferArb,
      native: fc.boolean(),
      pool: poolArb(undefined),
      batch: batchArb,
      drain: fc.option(drainArb, { nil: undefined }),
      consumer: consumerArb,
      unsubscribeAt: unsubscribeArb,
    }),
  ],
];

/**
 * Values of any kind pass every stage unchanged, exactly once, in order (mergeWorkers: in some
 * order): undefined, null, NaN, -0, objects, arrays, functions. Queues that use `undefined` as
 * "empty" would lose or invent values here. [name, ordered, emits batches, stage]
 */
const STAGES_FOR_ANY_VALUE: readonly [string, boolean, boolean, () => OperatorFunction<unknown, unknown>][] = [
  ["boundedBuffer('block')", true, false, () => boundedBuffer({ capacity: 3, overflow: 'block' })],
  ["boundedBuffer('drop-oldest')", true, false, () => boundedBuffer({ capacity: 64, overflow: 'drop-oldest' })],
  ['mergeWorkers', false, false, () => mergeWorkers((v: unknown) => of(v), { concurrency: 3 })],
  ['orderedMerge', true, false, () => orderedMerge((v: unknown) => of(v), { concurrency: 3 })],
  ['batchFresh', true, true, () => batchFresh<unknown>({ size: 2 })],
  [
    'drainOnComplete',
    true,
    false,
    () =>
      drainOnComplete(
        mergeWorkers((v: unknown) => of(v), { concurrency: 2 }),
        { deadline: Infinity },
      ),
  ],
];

describe('reliability properties, in virtual time', () => {
  it('any values (undefined, null, NaN, objects, arrays) pass every stage unchanged and exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.anything({ withNullPrototype: true, withBoxedValues: true }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        (values, perRequest) => {
          for (const [name, ordered, batches, stage] of STAGES_FOR_ANY_VALUE) {
            const got: unknown[] = [];
            let completed = false;
            let handle: DemandHandle | undefined;
            let received = 0;
            demandProtocolOf(fromPull(values).pipe(stage()))!.subscribe({
              start: (h) => {
                handle = h;
                h.request(perRequest);
              },
              next: (v) => {
                if (batches) got.push(...(v as unknown[]));
                else got.push(v);
                if (++received % perRequest === 0) handle?.request(perRequest);
              },
              error: (err) => {
                throw err;
              },
              complete: () => (completed = true),
            });
            if (!completed) throw new Error(`${name}: did not complete`);
            if (got.length !== values.length) throw new Error(`${name}: ${got.length} values out, ${values.length} in`);
            const same = (a: unknown[], b: unknown[]): boolean => a.every((x, i) => Object.is(x, b[i]));
            const sortedLike = (out: unknown[]): unknown[] => values.filter((v) => out.some((o) => Object.is(o, v)));
            if (ordered ? !same(got, values) : sortedLike(got).length !== values.length) {
              throw new Error(`${name}: values changed or reordered`);
            }
          }
        },
      ),
      fcParams(),
    );
  });

  if (process.env.FC_STATS !== undefined) {
    it('coverage statistics (FC_STATS)', () => {
      for (const [title, arbitrary] of PROPERTIES) {
        console.log(title);
        fc.statistics(
          arbitrary.filter((spec) => knownBug(spec) === undefined),
          (spec) => {
            const labels: string[] = [];
            checkPipeline(spec, (l) => labels.push(l));
            return labels;
          },
          { numRuns: fcParams().numRuns },
        );
      }
    });
  }

  for (const [title, arbitrary] of PROPERTIES) {
    it(title, () => {
      fc.assert(fc.property(arbitrary, holds), fcParams());
    });
  }
});
