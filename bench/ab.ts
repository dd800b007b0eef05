// Interleaved A/B of two builds of the library in one process: ours (the primary variant of each
// case) from both builds and the case's hand-written floor, run in turn, the order rotated every
// round, with a scavenge before each run, as in `npm run bench`. The same case functions run
// against both builds, so only the library differs. For a change of a few percent on a shared
// machine: the ratios within one run are what counts.
//
//   node --expose-gc --import tsx bench/ab.ts --a ab3830c --b worktree --case sync-boundedBuffer[,ID]
//     [--n 100000] [--c 4] [--rounds 15] [--against VARIANT] [--processes K] [--json]
// --against names the baseline by a part of its variant (`--against mergeMap`); by default it is
// the case's hand-written floor.
// --processes K runs the whole comparison in K fresh processes, one after another, and reports
// each ratio as the median over them with its range: one process varies by 5-10% on a shared
// machine (its JIT and heap state are its own), so a change of a few percent needs K of 5 or more.
// --json prints one JSON line per case instead of the table (what --processes reads).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeCases, useLibrary } from './cases.js';
import { median, Probe, type Impl } from './harness.js';
import { describeSource, loadLibrary, type Library } from './library.js';

const { values } = parseArgs({
  options: {
    a: { type: 'string', default: 'HEAD' },
    b: { type: 'string', default: 'worktree' },
    case: { type: 'string', default: 'resolved-work' },
    n: { type: 'string', default: '100000' },
    c: { type: 'string' },
    rounds: { type: 'string', default: '15' },
    against: { type: 'string' },
    processes: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});

/** One case's medians from one process, per value in ns (what `--json` prints). */
interface CaseResult {
  id: string;
  n: number;
  c: number;
  names: [string, string, string];
  wall: [number, number, number];
  cpu: [number, number, number];
}

const processes = Number(values.processes);
if (!Number.isInteger(processes) || processes < 1)
  throw new Error(`--processes: a whole number >= 1, got ${values.processes}`);
if (processes > 1) {
  runProcesses(processes);
  process.exit(0);
}

const gc = (globalThis as { gc?: (options?: { type?: 'minor' | 'major' }) => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const libs: [string, Library][] = [
  [`A ${describeSource({ ref: values.a })}`, await loadLibrary({ ref: values.a }, 'a')],
  [`B ${describeSource({ ref: values.b })}`, await loadLibrary({ ref: values.b }, 'b')],
];
const cases = makeCases(libs[0]![1]);
const n = Number(values.n);
const rounds = Number(values.rounds);

interface Entry {
  name: string;
  library: Library | undefined;
  impl: Impl;
  ms: number[];
  cpuMs: number[];
}

async function timed(entry: Entry, size: number, c: number): Promise<void> {
  if (entry.library !== undefined) useLibrary(entry.library);
  gc!({ type: 'minor' });
  const cpu = process.cpuUsage();
  const start = performance.now();
  await entry.impl.run(size, c, new Probe(0, Infinity));
  entry.ms.push(performance.now() - start);
  const used = process.cpuUsage(cpu);
  entry.cpuMs.push((used.user + used.system) / 1000);
}

for (const id of values.case.split(',')) {
  const def = cases.find((d) => d.id === id);
  if (def === undefined) throw new Error(`no case ${id}; cases: ${cases.map((d) => d.id).join(', ')}`);
  const ours = def.impls.find((impl) => impl.primary === true)!;
  const against = values.against;
  const floor = def.impls.find((impl) =>
    against === undefined ? impl.impl === 'hand-written' : !impl.ours && impl.variant.includes(against),
  );
  if (floor === undefined) throw new Error(`${id}: no baseline ${against ?? 'hand-written'}`);
  const c = Number(values.c ?? def.runs[0]?.concurrency ?? 1);
  const entries: Entry[] = [
    { name: against === undefined ? 'floor' : floor.variant, library: undefined, impl: floor, ms: [], cpuMs: [] },
    ...libs.map(([name, library]) => ({ name, library, impl: ours, ms: [], cpuMs: [] })),
  ];
  for (const entry of entries) await timed(entry, Math.min(n, 10_000), c); // warm-up
  for (const entry of entries) entry.ms.length = entry.cpuMs.length = 0;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < entries.length; i++) await timed(entries[(i + round) % entries.length]!, n, c);
  }
  const perValue = (ms: number): string => `${((ms * 1e6) / n).toFixed(1)} ns`;
  const [base, a, b] = entries.map((e) => ({ ms: median(e.ms), cpu: median(e.cpuMs) }));
  if (values.json) {
    const ns = (ms: number): number => (ms * 1e6) / n;
    const result: CaseResult = {
      id,
      n,
      c,
      names: entries.map((e) => e.name) as CaseResult['names'],
      wall: [ns(base!.ms), ns(a!.ms), ns(b!.ms)],
      cpu: [ns(base!.cpu), ns(a!.cpu), ns(b!.cpu)],
    };
    console.log(JSON.stringify(result));
    continue;
  }
  console.log(`${id} N=${n} c=${c}, ${rounds} rounds, medians per value (wall / CPU):`);
  entries.forEach((e, i) => {
    const m = [base, a, b][i]!;
    console.log(`  ${e.name.padEnd(40)} ${perValue(m.ms).padStart(10)} / ${perValue(m.cpu).padStart(10)}`);
  });
  console.log(
    `  B / A: ${(b!.ms / a!.ms).toFixed(3)} wall, ${(b!.cpu / a!.cpu).toFixed(3)} CPU; ` +
      `B / floor: ${(b!.ms / base!.ms).toFixed(2)} wall, ${(b!.cpu / base!.cpu).toFixed(2)} CPU`,
  );
}

/**
 * Runs this script K times in fresh processes (every argument passed on, with --json) and prints,
 * per case, the median over the processes of each per-value time and of B / A and B / floor, with
 * their ranges.
 */
function runProcesses(k: number): void {
  const script = fileURLToPath(import.meta.url);
  const args = process.argv
    .slice(2)
    .filter((arg, i, all) => arg !== '--processes' && all[i - 1] !== '--processes' && !arg.startsWith('--processes='));
  const byCase = new Map<string, CaseResult[]>();
  for (let i = 0; i < k; i++) {
    const child = spawnSync(process.execPath, [...process.execArgv, script, ...args, '--json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (child.status !== 0) throw new Error(`process ${i + 1} of ${k} exited with ${child.status}`);
    for (const line of child.stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      const result = JSON.parse(line) as CaseResult;
      byCase.set(result.id, [...(byCase.get(result.id) ?? []), result]);
    }
    process.stderr.write(`process ${i + 1} of ${k} done\n`);
  }
  for (const [id, results] of byCase) printMedians(id, results);
}

function printMedians(id: string, results: CaseResult[]): void {
  const { n, c, names } = results[0]!;
  // The median over the processes of one figure, with its range.
  const over = (figure: (r: CaseResult) => number, digits: number): string => {
    const xs = results.map(figure);
    const fixed = (x: number): string => x.toFixed(digits);
    return `${fixed(median(xs))} (${fixed(Math.min(...xs))}-${fixed(Math.max(...xs))})`;
  };
  console.log(`${id} N=${n} c=${c}, median of ${results.length} processes (range), per value (wall / CPU):`);
  names.forEach((name, i) => {
    const wall = over((r) => r.wall[i]!, 1);
    const cpu = over((r) => r.cpu[i]!, 1);
    console.log(`  ${name.padEnd(40)} ${wall.padStart(22)} ns / ${cpu.padStart(22)} ns`);
  });
  const bOverA = `${over((r) => r.wall[2] / r.wall[1], 3)} wall, ${over((r) => r.cpu[2] / r.cpu[1], 3)} CPU`;
  const bOverBase = `${over((r) => r.wall[2] / r.wall[0], 2)} wall, ${over((r) => r.cpu[2] / r.cpu[0], 2)} CPU`;
  console.log(`  B / A: ${bOverA}; B / floor: ${bOverBase}`);
}
