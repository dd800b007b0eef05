// npm run bench [-- --json] [-- --quick] [-- --cold] [-- --write-docs] [-- --case ID[,ID]] [-- --reps N]
//   [-- --ref COMMIT | --worktree] [-- --from FILE.json] [-- --shared]
// The benchmark suite (see docs/performance.md for the method). The library is built from HEAD
// (or --ref) unless --worktree; --from re-renders saved results (with --write-docs) without a run.
// `npm run -s bench -- --json` for a clean stdout: without -s, npm prints its own banner there.
// Progress goes to stderr; stdout carries the table, or with --json one JSON document only.
// --cold also times every run after a full gc() (the method before issue 12), in a column apart.
// Each case runs in a Node process of its own (a child importing the bundle built here), so no case
// measures call sites that another case made polymorphic; --shared runs every case in this process.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeCases } from './cases.js';
import { gcExposed, runCase, type Row, type Skip } from './harness.js';
import { describeSource, importBuilt, importSource, loadLibrary, type LibrarySource } from './library.js';
import { profile } from './profiler.js';
import { profileRequests, renderText, writeDocs, type Results } from './report.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    cold: { type: 'boolean', default: false },
    'write-docs': { type: 'boolean', default: false },
    case: { type: 'string' },
    reps: { type: 'string', default: '5' },
    'limit-s': { type: 'string', default: '20' },
    from: { type: 'string' },
    ref: { type: 'string', default: 'HEAD' },
    worktree: { type: 'boolean', default: false },
    shared: { type: 'boolean', default: false },
    /** Internal: a case's own process, started by this script; it measures the parent's bundle. */
    child: { type: 'string' },
  },
});

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const source: LibrarySource = { ref: values.worktree ? 'worktree' : values.ref };
// --from re-renders saved results: no run, so no build either (the cases only lend their notes).
const CASES = makeCases(
  values.child !== undefined
    ? await importBuilt()
    : values.from === undefined
      ? await loadLibrary(source)
      : await importSource(),
);
// Named now, when the library is built: a commit made while the run goes must not be credited.
const measuredSource = values.child ?? describeSource(source);

function machine(): Results['machine'] {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    mhz: cpus[0]?.speed ?? 0,
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}

async function measureAll(): Promise<Results> {
  const reps = Number(values.reps);
  if (!Number.isInteger(reps) || reps < 5) throw new Error('--reps must be an integer >= 5');
  const wanted = values.case?.split(',');
  const cases = CASES.filter((c) => wanted === undefined || wanted.includes(c.id));
  if (cases.length === 0)
    throw new Error(`no case matches --case ${values.case}; cases: ${CASES.map((c) => c.id).join(', ')}`);
  if (!gcExposed) log('warning: gc() is not exposed (run node with --expose-gc); heap figures include old garbage');
  const started = performance.now();
  const loadStart = os.loadavg();
  const rows: Row[] = [];
  const skips: Skip[] = [];
  const isolated = !values.shared && values.child === undefined;
  for (const def of cases) {
    const result = isolated ? runInChild(def.id) : await runCase(def, caseOptions());
    rows.push(...result.rows);
    skips.push(...result.skips);
  }
  const seconds = (performance.now() - started) / 1000;
  log(`done in ${seconds.toFixed(0)} s`);
  return {
    node: process.version,
    v8: process.versions.v8,
    machine: machine(),
    loadAverage: { start: loadStart, end: os.loadavg() },
    commit: measuredSource,
    date: new Date().toISOString(),
    quick: values.quick,
    cold: values.cold,
    reps,
    limitSeconds: Number(values['limit-s']),
    totalSeconds: Math.round(seconds),
    gcExposed,
    warmMs: caseOptions().warmMs,
    sampleMs: caseOptions().sampleMs,
    isolated: values.child === undefined && !values.shared,
    cases: rows,
    skipped: skips,
    profiles: [],
  };
}

function caseOptions(): Parameters<typeof runCase>[1] {
  return {
    quick: values.quick,
    reps: Number(values.reps),
    limitMs: Number(values['limit-s']) * 1000,
    warmN: values.quick ? 1_000 : 10_000,
    warmMs: values.quick ? 0 : 100,
    // 3 s, not 1: a cell's samples are often two-moded on a shared machine (bench/tried.md, eighth
    // pass), and the 10^5 and 10^6 cells of the floor targets got only 5-7 repetitions at 1 s.
    sampleMs: values.quick ? 0 : 3000,
    cold: values.cold,
    log,
  };
}

/** Runs one case in a fresh Node process, with this process's flags and the bundle built here. */
function runInChild(id: string): { rows: Row[]; skips: Skip[] } {
  const args = [
    '--case',
    id,
    '--json',
    '--child',
    measuredSource,
    '--reps',
    values.reps,
    '--limit-s',
    values['limit-s'],
  ];
  if (values.quick) args.push('--quick');
  if (values.cold) args.push('--cold');
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, [...process.execArgv, script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`bench: case ${id} failed in its process (exit status ${child.status})`);
  const results = JSON.parse(child.stdout) as Results;
  return { rows: results.cases, skips: results.skipped };
}

const results: Results =
  values.from === undefined ? await measureAll() : (JSON.parse(await readFile(values.from, 'utf8')) as Results);

if (values['write-docs']) {
  if (values.from === undefined) {
    for (const request of profileRequests(results)) {
      log(`profiling ${request.case} at N=${request.n}`);
      results.profiles.push(await profile(request, 12));
    }
  }
  await writeDocs(results, CASES, log);
}
if (values.json) process.stdout.write(`${JSON.stringify(results)}\n`);
else process.stdout.write(renderText(results));
