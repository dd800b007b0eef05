// Profiles one implementation of one case with `node --cpu-prof` and prints where the time goes:
// self time by function, file:line mapped to the TypeScript source (the library's through its
// bundle's source map, the benchmark's own through tsx's). The .cpuprofile stays in .tmp/ (open it
// in Chrome DevTools or speedscope). --all profiles our primary variant of every case in turn.
//
//   node --import tsx bench/profile.ts --case resolved-work [--variant 'fromPull + mergeWorkers']
//     [--n 100000] [--c 4] [--top 25] [--all] [--ref COMMIT | --worktree]
//
// PROFILE_FLAGS passes V8 flags to the profiled process: PROFILE_FLAGS=--no-turbo-inlining shows
// each function's own share, where an optimised profile credits inlined callees to their caller.
import { parseArgs } from 'node:util';
import { makeCases } from './cases.js';
import { describeSource, loadLibrary } from './library.js';
import { profile, type ProfileRequest } from './profiler.js';

const { values } = parseArgs({
  options: {
    case: { type: 'string', default: 'slow-work-promise' },
    variant: { type: 'string' },
    n: { type: 'string', default: '100000' },
    c: { type: 'string', default: '4' },
    top: { type: 'string', default: '25' },
    all: { type: 'boolean', default: false },
    ref: { type: 'string', default: 'HEAD' },
    worktree: { type: 'boolean', default: false },
  },
});

const source = { ref: values.worktree ? 'worktree' : values.ref };
const cases = makeCases(await loadLibrary(source));
const requests: ProfileRequest[] = values.all
  ? cases.map((def) => ({ case: def.id, n: Number(values.n), c: def.runs[0]?.concurrency ?? 1 }))
  : [{ case: values.case, variant: values.variant, n: Number(values.n), c: Number(values.c) }];

for (const request of requests) {
  const result = await profile(request, Number(values.top));
  console.log(
    `\n${request.case} / ${request.variant ?? 'ours'} N=${request.n} c=${request.c}, ${describeSource(source)}: ` +
      `${result.runMs.toFixed(0)} ms (${((result.runMs * 1e6) / request.n).toFixed(0)} ns per value); ` +
      `self time of the measured run only; ${result.file}`,
  );
  console.log('self %   self ms  function  file:line');
  for (const h of result.hotSpots) {
    console.log(`${h.selfPercent.toFixed(1).padStart(6)} ${h.selfMs.toFixed(1).padStart(9)}  ${h.fn}  ${h.where}`);
  }
}
