import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');

/** Every module the main entry loads, following relative imports from index.ts. */
function importGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
      const spec = match[1]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  };
  visit(join(root, entry));
  return { files: [...files].map((f) => relative(root, f)), packages: [...packages] };
}

describe('entries', () => {
  it('the main entry never loads redis/ nor the redis package', () => {
    const { files, packages } = importGraph('index.ts');
    expect(files.length).toBeGreaterThan(10);
    expect(files.filter((f) => f.startsWith('redis'))).toEqual([]);
    expect(packages).not.toContain('redis');
    expect(packages).toContain('rxjs');
  });

  it('the redis subpath does not import redis at run time either (types only, structurally)', () => {
    const { packages } = importGraph('redis/index.ts');
    expect(packages).not.toContain('redis');
  });
});
