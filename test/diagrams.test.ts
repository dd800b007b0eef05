import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { marbleCases } from '../marbles/cases/index.js';
import { DIAGRAM_DIR, renderAll } from '../marbles/render.js';

// The committed SVGs must be exactly what the cases render: a behaviour change that updates a
// case without regenerating its diagram (or the reverse) fails here.
const FIX = 'run `npm run diagrams` and commit docs/diagrams';
const expected = renderAll(marbleCases);

describe('docs/diagrams', () => {
  for (const [name, svg] of expected) {
    it(`${name} is up to date`, () => {
      const file = resolve(DIAGRAM_DIR, name);
      expect(existsSync(file), `docs/diagrams/${name} is missing: ${FIX}`).toBe(true);
      expect(readFileSync(file, 'utf8') === svg, `docs/diagrams/${name} differs from its case: ${FIX}`).toBe(true);
    });
  }

  it('has no SVG without a case', () => {
    const orphans = existsSync(DIAGRAM_DIR)
      ? readdirSync(DIAGRAM_DIR).filter((name) => name.endsWith('.svg') && !expected.has(name))
      : [];
    expect(orphans, `SVGs with no case (renamed or deleted case?): ${FIX}`).toEqual([]);
  });

  it('renders deterministically', () => {
    expect(renderAll(marbleCases)).toEqual(expected);
  });
});
