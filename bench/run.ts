// npm run bench [-- --json] [-- --quick] [-- --cold] [-- --write-docs] [-- --case ID[,ID]] [-- --reps N]
//   [-- --ref COMMIT | --worktree] [-- --from FILE.json]
// The benchmark suite (see docs/performance.md for the method). The library is built from HEAD
// (or --ref) unless --worktree; --from re-renders saved results (with --write-docs) without a run.
// `npm run -s bench -- --json` for a clean stdout: without -s, npm prints its own banner there.
// Progress goes to stderr; stdout carries the table, or with --json one JSON document only.
// --cold also times every run after a full gc() (the method before issue 12), in a column apart.
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { makeCases } from './cases.js';
import { gcExposed, runCase, type Row, type Skip } from './harness.js';
import { describeSource, importSource, loadLibrary, type LibrarySource } from './library.js';
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
  },
});

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const source: LibrarySource = { ref: values.worktree ? 'worktree' : values.ref };
// --from re-renders saved results: no run, so no build either (the cases only lend their notes).
const CASES = makeCases(values.from === undefined ? await loadLibrary(source) : await importSource());
// Named now, when the library is built: a commit made while the run goes must not be credited.
const measuredSource = describeSource(source);

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
  for (const def of cases) {
    const result = await runCase(def, {
      quick: values.quick,
      reps,
      limitMs: Number(values['limit-s']) * 1000,
      warmN: values.quick ? 1_000 : 10_000,
      cold: values.cold,
      log,
    });
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
    cases: rows,
    skipped: skips,
    profiles: [],
  };
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
