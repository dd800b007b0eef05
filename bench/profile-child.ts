// The profiled process of bench/profiler.ts (run under --cpu-prof): a short warm-up, then the run
// the profile is about, whose start and end on the profile's clock go to a file so that only its
// samples are counted.
import { readdir, writeFile } from 'node:fs/promises';
import { findSourceMap } from 'node:module';
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
// tsx puts each benchmark module on one line: its source maps (kept by --enable-source-maps) give
// the parent the lines of the benchmark's own functions (the work, the floors, the probe).
const maps: Record<string, unknown> = {};
for (const file of await readdir(new URL('.', import.meta.url))) {
  if (!file.endsWith('.ts')) continue;
  const url = new URL(file, import.meta.url).href;
  const map = findSourceMap(url);
  if (map !== undefined) maps[url] = map.payload;
}
await writeFile(windowFile, JSON.stringify({ start, end, maps }));
