/**
 * Property suite (issue 6): every operator, alone and composed, on random timelines in virtual
 * time. Each case is a pipeline spec (pipeline.ts) run with a spy on every hop; the invariants
 * are checked by `checkPipeline`. `FC_RUNS` sets the cases per property (default 200);
 * `FC_SEED` and `FC_PATH` replay a reported failure (with `-t` naming the property).
 */
import { describe, it } from 'vitest';
import fc from 'fast-check';
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

describe('reliability properties, in virtual time', () => {
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
