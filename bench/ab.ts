// Interleaved A/B of two builds of the library in one process: ours (the primary variant of each
// case) from both builds and the case's hand-written floor, run in turn, the order rotated every
// round, with a scavenge before each run, as in `npm run bench`. The same case functions run
// against both builds, so only the library differs. For a change of a few percent on a shared
// machine: the ratios within one run are what counts.
//
//   node --expose-gc --import tsx bench/ab.ts --a ab3830c --b worktree --case sync-boundedBuffer[,ID]
//     [--n 100000] [--c 4] [--rounds 15] [--against VARIANT]
// --against names the baseline by a part of its variant (`--against mergeMap`); by default it is
// the case's hand-written floor.
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
  },
});

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
