import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AnyMarbleCase } from './case.js';
import { marbleCases } from './cases/index.js';
import { diagramOf } from './spec.js';
import { composePanels } from './svg.js';

/** Where the diagrams live: `docs/diagrams/<id>.svg`, all generated, none hand-made. */
export const DIAGRAM_DIR = fileURLToPath(new URL('../docs/diagrams/', import.meta.url));

/**
 * The SVG of one case: its title, the source and inner streams, the operator box, the expected
 * output, and a legend for long values and errors. Pure and deterministic (no I/O, no clock).
 */
export function renderCase(c: AnyMarbleCase): string {
  return composePanels([{ heading: c.title, diagram: diagramOf(c) }]);
}

/** Every SVG the registry should produce, by file name (cases with `diagram: false` have none). */
export function renderAll(cases: readonly AnyMarbleCase[] = marbleCases): Map<string, string> {
  return new Map(cases.filter((c) => c.diagram !== false).map((c) => [`${c.id}.svg`, renderCase(c)] as const));
}

/** Writes every diagram and deletes SVGs whose case is gone, so the directory mirrors the registry. */
function writeAll(): void {
  const files = renderAll();
  mkdirSync(DIAGRAM_DIR, { recursive: true });
  for (const name of readdirSync(DIAGRAM_DIR)) {
    if (name.endsWith('.svg') && !files.has(name)) {
      rmSync(resolve(DIAGRAM_DIR, name));
      console.log(`removed docs/diagrams/${name}`);
    }
  }
  for (const [name, svg] of files) writeFileSync(resolve(DIAGRAM_DIR, name), svg);
  console.log(`wrote ${files.size} diagram(s) to docs/diagrams`);
}

// Importing this module (the drift test does) must not write anything.
const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(resolve(entry)).href) writeAll();
