// The counted process of bench/instructions.ts (run under valgrind's callgrind): warm-up runs at
// 10^4, then one run at the size asked for. The parent runs this twice, at two sizes, and divides
// the difference by the difference of the sizes, so start-up, the warm-up and the compiler's first
// work cancel out and what is left is the cost of a value once the code is optimised.
import { makeCases } from './cases.js';
import { Probe } from './harness.js';
import { BUILT, type Library } from './library.js';

interface CountRequest {
  case: string;
  variant?: string;
  n: number;
  c: number;
  warm: number;
}

const [requestJson] = process.argv.slice(2);
if (requestJson === undefined) throw new Error('usage: instructions-child.ts REQUEST_JSON');
const request = JSON.parse(requestJson) as CountRequest;
const cases = makeCases((await import(BUILT)) as Library);
const def = cases.find((c) => c.id === request.case);
if (def === undefined) throw new Error(`no case ${request.case}; cases: ${cases.map((c) => c.id).join(' | ')}`);
const impl = def.impls.find((i) =>
  request.variant === undefined ? i.primary === true : i.variant === request.variant,
);
if (impl === undefined) {
  throw new Error(`no variant ${request.variant}; variants: ${def.impls.map((i) => i.variant).join(' | ')}`);
}
for (let i = 0; i < request.warm; i++) await impl.run(10_000, request.c, new Probe(0, Infinity));
const probe = new Probe(0, Infinity);
await impl.run(request.n, request.c, probe);
// The count is printed so that a run which lost values does not pass for a cheap one.
console.log(JSON.stringify({ count: probe.count }));
