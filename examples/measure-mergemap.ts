/**
 * Measures the problem the README describes. RxJS's `mergeMap(work, 4)` fed a synchronous
 * source accepts every value at once and queues those it cannot start yet in an array that it
 * drains with `shift()`; the same values pulled through `fromPull` + `mergeWorkers` are taken
 * only when a worker is free.
 *
 *   npx tsx examples/measure-mergemap.ts
 *
 * It prints the README's table (Markdown), with the date, the commit and the machine.
 *
 * Every measurement runs in a fresh child process started with --expose-gc:
 * - time: one run, no instrumentation; the median of three runs is reported, as wall-clock time
 *   and as CPU time (user + system, which other load on the machine disturbs less);
 * - heap: another run that forces a full GC at regular points and records the largest live heap
 *   above the baseline (so uncollected garbage is not counted as memory the pipeline holds).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { mergeMap, range, type Observable } from 'rxjs';
import { fromPull, mergeWorkers } from '../index.js';

type Kind = 'mergeMap' | 'mergeWorkers';
type Mode = 'time' | 'heap';

const CONCURRENCY = 4;
// MEASURE_SIZES (comma-separated) and MEASURE_RUNS make a small run (npm test uses 2,000 and 1 run).
const SIZES = (process.env['MEASURE_SIZES'] ?? '100000,200000,400000').split(',').map(Number);
const TIME_RUNS = Number(process.env['MEASURE_RUNS'] ?? 3);

function* numbers(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

function pipeline(kind: Kind, n: number, work: (x: number) => Promise<number>): Observable<number> {
  return kind === 'mergeMap'
    ? range(0, n).pipe(mergeMap(work, CONCURRENCY))
    : fromPull(numbers(n)).pipe(mergeWorkers(work, { concurrency: CONCURRENCY }));
}

/** Runs one pipeline to completion; returns the wall and CPU ms, or the peak live heap in MB. */
function measure(kind: Kind, n: number, mode: Mode): Promise<number[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  gc();
  const baseline = process.memoryUsage().heapUsed;
  let peak = 0;
  const sample = (): void => {
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
  };
  let calls = 0;
  const every = n / 20;
  // The whole run is one chain of microtasks (Promise.resolve), so a timer would not get a turn
  // before the end: the heap is sampled from inside the work function instead.
  const work =
    mode === 'heap'
      ? (x: number): Promise<number> => {
          if (++calls % every === 0) sample();
          return Promise.resolve(x);
        }
      : (x: number): Promise<number> => Promise.resolve(x);
  return new Promise((resolve, reject) => {
    let count = 0;
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    pipeline(kind, n, work).subscribe({
      next: () => count++,
      error: reject,
      complete: () => {
        const ms = performance.now() - start;
        const cpu = process.cpuUsage(cpuStart);
        if (count !== n) reject(new Error(`${kind}: expected ${n} results, got ${count}`));
        else resolve(mode === 'time' ? [ms, (cpu.user + cpu.system) / 1000] : [peak / 2 ** 20]);
      },
    });
    if (mode === 'heap') sample(); // a synchronous source has pushed everything by now
  });
}

const [kindArg, nArg, modeArg] = process.argv.slice(2);
if (kindArg !== undefined && nArg !== undefined && modeArg !== undefined) {
  console.log(JSON.stringify(await measure(kindArg as Kind, Number(nArg), modeArg as Mode)));
} else {
  const self = fileURLToPath(import.meta.url);
  const child = (kind: Kind, n: number, mode: Mode): number[] => {
    const args = [...process.execArgv, '--expose-gc', self, kind, String(n), mode];
    const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${kind} ${n} ${mode} failed:\n${run.stderr}`);
    return JSON.parse(run.stdout) as number[];
  };
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout: the table says so.
  }
  const load = os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(', ');
  console.log(
    `Measured ${new Date().toISOString().slice(0, 10)} at commit \`${commit}\`, Node ${process.version} on ` +
      `${process.platform}/${process.arch} with ${os.cpus().length} cores (load average ${load} at start), ` +
      `concurrency ${CONCURRENCY}, work = x => Promise.resolve(x); times: median of ${TIME_RUNS} runs, each in a ` +
      'fresh process; heap: peak live heap after a forced GC, in a run of its own.',
  );
  console.log('');
  console.log('| pipeline | values | CPU time | wall time | live heap |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  const seconds = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
  for (const kind of ['mergeMap', 'mergeWorkers'] as const) {
    for (const n of SIZES) {
      const runs = Array.from({ length: TIME_RUNS }, () => child(kind, n, 'time'));
      const wall = median(runs.map((r) => r[0]!));
      const cpu = median(runs.map((r) => r[1]!));
      const heap = child(kind, n, 'heap')[0]!;
      const label =
        kind === 'mergeMap' ? '`range` → `mergeMap(work, 4)`' : '`fromPull` → `mergeWorkers(work, { concurrency: 4 })`';
      console.log(
        `| ${label} | ${n.toLocaleString('en-US')} | ${seconds(cpu)} | ${seconds(wall)} | ${heap.toFixed(1)} MB |`,
      );
    }
  }
}
