// Loads the library the way users get it: bundled by tsup with the project's build options (ESM,
// target node20, rxjs external), into .tmp/bench-lib. Running the TypeScript source through tsx
// instead would measure tsx's transform: it keeps function names by wrapping every closure in a
// `__name(...)` call, which costs the per-value closures of the worker pool several percent.
//
// By default the sources are those of a commit (HEAD), exported with `git archive`, so a run
// measures a known version even while the work tree is being edited; `worktree` builds the work
// tree as it is (to measure a change before committing it).
import { execFileSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Lib from '../index.js';

export type Library = typeof Lib;

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where a commit's sources are exported to (inside the repository, so `rxjs` resolves). */
export const SNAPSHOT = path.join(ROOT, '.tmp', 'bench-src');
export const BUILT = path.join(ROOT, '.tmp', 'bench-lib', 'index.js');
const SOURCES = ['index.ts', 'lib', 'operators'];

export interface LibrarySource {
  /** 'worktree', or a commit-ish (default 'HEAD'). */
  ref: string;
}

const git = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();

/** What is measured: a short commit hash, or the work tree's HEAD marked as modified. */
export function describeSource(source: LibrarySource): string {
  try {
    if (source.ref !== 'worktree') return git('rev-parse', '--short', source.ref);
    const dirty = git('status', '--porcelain', '--', ...SOURCES) !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes to lib/operators' : ''} (work tree)`;
  } catch {
    return 'unknown';
  }
}

/** The directory whose index.ts is built: the work tree, or the commit's exported sources. */
async function sourceRoot(source: LibrarySource, snapshot: string): Promise<string> {
  if (source.ref === 'worktree') return ROOT;
  await rm(snapshot, { recursive: true, force: true });
  await mkdir(snapshot, { recursive: true });
  const archive = execFileSync('git', ['archive', '--format=tar', source.ref, '--', ...SOURCES], {
    cwd: ROOT,
    maxBuffer: 256 * 1024 * 1024,
  });
  execFileSync('tar', ['-x', '-C', snapshot], { input: archive });
  return snapshot;
}

/**
 * Builds the library from the chosen sources with tsup and imports the bundle. `slot` names a
 * second pair of directories (.tmp/bench-src-SLOT, .tmp/bench-lib-SLOT), so that bench/ab.ts can
 * hold two builds at once.
 */
export async function loadLibrary(source: LibrarySource, slot?: string): Promise<Library> {
  const snapshot = slot === undefined ? SNAPSHOT : `${SNAPSHOT}-${slot}`;
  const built = slot === undefined ? BUILT : path.join(`${path.dirname(BUILT)}-${slot}`, 'index.js');
  const root = await sourceRoot(source, snapshot);
  const { build } = await import('tsup');
  await build({
    entry: { index: path.join(root, 'index.ts') },
    format: ['esm'],
    outDir: path.dirname(built),
    external: ['rxjs'],
    target: 'node20',
    sourcemap: true,
    clean: true,
    dts: false,
    silent: true,
    config: false,
  });
  return (await import(pathToFileURL(built).href)) as Library;
}

/** The bundle the last `loadLibrary` built (no slot): for a child of bench/run.ts, which must measure the parent's build. */
export async function importBuilt(): Promise<Library> {
  return (await import(pathToFileURL(BUILT).href)) as Library;
}

/** The TypeScript source as it is, imported through tsx: for re-rendering saved results only. */
export async function importSource(): Promise<Library> {
  return import('../index.js');
}

/** A path inside the built sources, relative to them (lib/worker-pool.ts for either root). */
export function sourceRelative(file: string): string {
  const inSnapshot = path.relative(SNAPSHOT, file);
  return inSnapshot.startsWith('..') ? path.relative(ROOT, file) : inSnapshot;
}
