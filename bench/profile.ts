// Profiles one implementation of one case with `node --cpu-prof` and prints where the time goes:
// self time by function, file:line mapped to the TypeScript source. The .cpuprofile stays in
// .tmp/ (open it in Chrome DevTools or speedscope).
//
//   node --import tsx bench/profile.ts --case slow-work-promise [--variant 'fromPull + mergeWorkers']
//     [--n 100000] [--c 4] [--top 25] [--ref COMMIT | --worktree]
import { parseArgs } from 'node:util';
import { describeSource, loadLibrary } from './library.js';
import { profile } from './profiler.js';

const { values } = parseArgs({
  options: {
    case: { type: 'string', default: 'slow-work-promise' },
    variant: { type: 'string' },
    n: { type: 'string', default: '100000' },
    c: { type: 'string', default: '4' },
    top: { type: 'string', default: '25' },
    ref: { type: 'string', default: 'HEAD' },
    worktree: { type: 'boolean', default: false },
  },
});

const source = { ref: values.worktree ? 'worktree' : values.ref };
await loadLibrary(source);
const result = await profile(
  { case: values.case, variant: values.variant, n: Number(values.n), c: Number(values.c) },
  Number(values.top),
);
const { request } = result;
console.log(
  `${request.case} / ${request.variant ?? 'ours'} N=${request.n} c=${request.c}, ${describeSource(source)}: ` +
    `${result.runMs.toFixed(0)} ms; ` +
    `self time of the measured run only; ${result.file}`,
);
console.log('self %   self ms  function  file:line');
for (const h of result.hotSpots) {
  console.log(`${h.selfPercent.toFixed(1).padStart(6)} ${h.selfMs.toFixed(1).padStart(9)}  ${h.fn}  ${h.where}`);
}
