/**
 * Bad input, table-driven (bad-input.cases.ts): every public function with every invalid input
 * gives a clear error naming the operator and the parameter, or is handled as documented; none
 * crashes the process, leaves an unhandled error behind, or keeps a subscription open. Rows that
 * show a bug not yet fixed run as `it.fails`. Prints nothing; the count is exported for the docs.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { config } from 'rxjs';
import { BAD_INPUTS, INVALID_INPUTS_TRIED, settle } from './bad-input.cases.js';

export { INVALID_INPUTS_TRIED };

let tried = 0;

/** Runs a row with RxJS's unhandled-error hook and Node's rejection hook watched. */
async function guarded(run: () => void | Promise<void>): Promise<void> {
  tried++;
  const unhandled: unknown[] = [];
  const previous = config.onUnhandledError;
  config.onUnhandledError = (err) => unhandled.push(err);
  const onRejection = (err: unknown): void => void unhandled.push(err);
  process.on('unhandledRejection', onRejection);
  try {
    await run();
    await settle();
  } finally {
    config.onUnhandledError = previous;
    process.off('unhandledRejection', onRejection);
  }
  expect(unhandled.map(String), 'unhandled errors').toEqual([]);
}

describe('bad input: every public function, every invalid input', () => {
  for (const row of BAD_INPUTS) {
    const title = `${row.fn}: ${row.input}`;
    if (row.bug === undefined) it(title, () => guarded(row.run));
    else it.fails(`${title} [bug: ${row.bug}]`, () => guarded(row.run));
  }

  afterAll(() => {
    expect(tried).toBe(INVALID_INPUTS_TRIED);
  });
});

describe('docs/reliability.md', () => {
  it('quotes the number of invalid inputs the table tries', () => {
    const doc = readFileSync(new URL('../../docs/reliability.md', import.meta.url), 'utf8');
    const quoted = [...doc.matchAll(/(\d+) invalid inputs/g)].map((m) => Number(m[1]));
    expect(quoted.length).toBeGreaterThan(0);
    expect(quoted.every((n) => n === INVALID_INPUTS_TRIED)).toBe(true);
  });
});
