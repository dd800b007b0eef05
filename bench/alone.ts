// Times one implementation of one case by itself in a fresh process: no other implementation
// runs in it, so the figure shows what the suite's method (a gc() before every run, ten
// implementations sharing one process) adds. Not part of `npm run bench`.
//
//   node --expose-gc --import tsx bench/alone.ts --case slow-work-promise [--variant 'fromPull + mergeWorkers']
//     [--n 100000] [--c 4] [--reps 9] [--gc] [--ref COMMIT | --worktree]
import { parseArgs } from 'node:util';
import { makeCases } from './cases.js';
import { median, Probe } from './harness.js';
import { describeSource, loadLibrary } from './library.js';

const { values } = parseArgs({
  options: {
    case: { type: 'string', default: 'slow-work-promise' },
    variant: { type: 'string' },
    n: { type: 'string', default: '100000' },
    c: { type: 'string', default: '4' },
    reps: { type: 'string', default: '9' },
    gc: { type: 'boolean', default: false },
    ref: { type: 'string', default: 'HEAD' },
    worktree: { type: 'boolean', default: false },
  },
});

const source = { ref: values.worktree ? 'worktree' : values.ref };
const cases = makeCases(await loadLibrary(source));
const def = cases.find((c) => c.id === values.case);
if (def === undefined) throw new Error(`no case ${values.case}; cases: ${cases.map((c) => c.id).join(', ')}`);
const impl = def.impls.find((i) => (values.variant === undefined ? i.primary === true : i.variant === values.variant));
if (impl === undefined) {
  throw new Error(`no variant ${values.variant}; variants: ${def.impls.map((i) => i.variant).join(' | ')}`);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (values.gc && gc === undefined) throw new Error('--gc needs node --expose-gc');

const n = Number(values.n);
const c = Number(values.c);
for (let i = 0; i < 3; i++) await impl.run(n, c, new Probe(0, Infinity)); // warm-up at full size
const times: number[] = [];
for (let i = 0; i < Number(values.reps); i++) {
  if (values.gc) gc!();
  const start = performance.now();
  await impl.run(n, c, new Probe(0, Infinity));
  times.push(performance.now() - start);
}
console.log(
  `${def.id} / ${impl.impl}: ${impl.variant} N=${n} c=${c}${values.gc ? ', gc() before each run' : ''}, ` +
    `${describeSource(source)}: median ${median(times).toFixed(1)} ms ` +
    `(${times
      .sort((a, b) => a - b)
      .map((t) => t.toFixed(1))
      .join(' ')})`,
);
