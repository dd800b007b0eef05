// The profiled process of bench/profiler.ts (run under --cpu-prof): a short warm-up, then the run
// the profile is about, whose start and end on the profile's clock go to a file so that only its
// samples are counted.
import { writeFile } from 'node:fs/promises';
import { makeCases } from './cases.js';
import { Probe } from './harness.js';
import { BUILT, type Library } from './library.js';
import type { ProfileRequest } from './profiler.js';

const [requestJson, windowFile] = process.argv.slice(2);
if (requestJson === undefined || windowFile === undefined)
  throw new Error('usage: profile-child.ts REQUEST_JSON WINDOW_FILE');
const request = JSON.parse(requestJson) as ProfileRequest;
const cases = makeCases((await import(BUILT)) as Library);
const def = cases.find((c) => c.id === request.case);
if (def === undefined) throw new Error(`no case ${request.case}; cases: ${cases.map((c) => c.id).join(', ')}`);
const impl = def.impls.find((i) =>
  request.variant === undefined ? i.primary === true : i.variant === request.variant,
);
if (impl === undefined) {
  throw new Error(`no variant ${request.variant}; variants: ${def.impls.map((i) => i.variant).join(' | ')}`);
}
const micros = (): number => Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC, as the profile's
await impl.run(Math.min(request.n, 10_000), request.c, new Probe(0, Infinity));
const start = micros();
await impl.run(request.n, request.c, new Probe(0, Infinity));
const end = micros();
await writeFile(windowFile, JSON.stringify({ start, end }));
