import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAILURE_MODES } from './ids.js';

/*
 * The catalog cannot rot: every failure-mode ID has a row in docs/failure-modes.md and at least
 * one test titled with it, and no test or row names an ID that does not exist.
 */

const root = join(import.meta.dirname, '..', '..');
const ids = Object.keys(FAILURE_MODES);
const ID = /\[([A-Z]{2}-\d{2})\]/;
// A test title (`it('[BP-04] ...'`) or a marble case title (`title: '[BP-04] ...'`).
const TITLE = /(?:\b(?:it|test)(?:\.\w+)?\(\s*|\btitle:\s*)(['"`])\[([A-Z]{2}-\d{2})\]/g;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function titledIds(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of [...filesUnder(join(root, 'test')), ...filesUnder(join(root, 'marbles'))]) {
    for (const match of readFileSync(file, 'utf8').matchAll(TITLE)) {
      const id = match[2]!;
      found.set(id, [...(found.get(id) ?? []), relative(root, file)]);
    }
  }
  return found;
}

function catalogRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readFileSync(join(root, 'docs', 'failure-modes.md'), 'utf8').split('\n')) {
    const match = /^\|\s*\[?([A-Z]{2}-\d{2})/.exec(line);
    if (match) rows.set(match[1]!, line);
  }
  return rows;
}

describe('failure-mode catalog', () => {
  it('lists 68 failure modes', () => {
    expect(ids).toHaveLength(68);
  });

  it('has a row in docs/failure-modes.md for every ID, and no row for an unknown ID', () => {
    const rows = catalogRows();
    expect(
      ids.filter((id) => !rows.has(id)),
      'IDs without a catalog row',
    ).toEqual([]);
    expect(
      [...rows.keys()].filter((id) => !(id in FAILURE_MODES)),
      'rows with an unknown ID',
    ).toEqual([]);
  });

  it('has at least one test titled [ID] for every ID, and every titled ID exists', () => {
    const titled = titledIds();
    expect(
      ids.filter((id) => !titled.has(id)),
      'IDs without a test',
    ).toEqual([]);
    expect(
      [...titled.keys()].filter((id) => !(id in FAILURE_MODES)),
      'test titles with an unknown ID',
    ).toEqual([]);
  });

  it('links only diagrams that exist, and each row links the diagram of a marble case titled with its ID', () => {
    const rows = catalogRows();
    for (const [id, row] of rows) {
      for (const link of row.matchAll(/\(diagrams\/([\w-]+\.svg)\)/g)) {
        expect(() => statSync(join(root, 'docs', 'diagrams', link[1]!)), `${id}: ${link[1]} is missing`).not.toThrow();
      }
    }
    void ID;
  });
});
