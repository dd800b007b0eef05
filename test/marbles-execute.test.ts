import { describe, expect, it } from 'vitest';
import { marbleCases } from '../marbles/cases/index.js';
import { demandMessages, executeCase } from '../marbles/execute.js';
import { demandMarblesOf, marblesOf, subscriptionMarblesOf } from '../marbles/notation.js';
import { runMarbleCase } from '../marbles/run.js';
import { demandValues, parseRunMarbles } from '../marbles/timeline.js';

// executeCase is what the playground runs in the browser; it must see what expectObservable sees.
describe('executeCase (the playground runner)', () => {
  for (const c of marbleCases) {
    it(`${c.id}: the same output as the test, written back as marbles that parse to it`, () => {
      const outcome = executeCase(c);
      expect(outcome.output).toEqual(parseRunMarbles(c.expected.marbles, c.expected.values, c.expected.error));
      const notation = marblesOf(outcome.output, c.expected.values ?? {});
      expect(parseRunMarbles(notation.marbles, notation.values, notation.error)).toEqual(outcome.output);
      if (c.demand !== undefined) {
        const written = demandMarblesOf(outcome.demand);
        expect(parseRunMarbles(written, demandValues(written))).toEqual(demandMessages(outcome.demand));
      }
    });
  }
});

describe('the demand lane', () => {
  const withDemand = marbleCases.filter((c) => c.demand !== undefined);

  it('is asserted: a case whose requests differ from its demand marbles fails', () => {
    const c = withDemand.find((x) => x.id === 'mergeWorkers-demand');
    expect(c).toBeDefined();
    if (c === undefined) return;
    expect(() => runMarbleCase({ ...c, demand: '2--1-1-1' })).toThrow(/requests made of the source/);
  });

  it('is drawn for the operators where demand is the point', () => {
    const ids = withDemand.map((c) => c.id);
    for (const op of ['mergeWorkers', 'boundedBuffer', 'fromPull', 'batchFresh']) {
      expect(ids.some((id) => id.startsWith(`${op}-`))).toBe(true);
    }
  });

  it('pull source: values wait for requests, and unsubscribing cancels the source', () => {
    const c = withDemand.find((x) => x.id === 'boundedBuffer-block-demand');
    if (c === undefined) throw new Error('case missing');
    const outcome = executeCase({ ...c, unsubscribe: '-------!', verify: undefined });
    expect(marblesOf(outcome.output).marbles).toBe('a----b');
    expect(outcome.subscriptions.source.map(subscriptionMarblesOf)).toEqual(['^------!']);
  });
});
