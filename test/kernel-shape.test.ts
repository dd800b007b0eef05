import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The kernel's sink and handle are on every stage's per-value path. V8 keeps an object in
// dictionary mode (a hash table: no inline caches, no inlined getters) when it is, for example,
// a literal with accessors, which is what the sink used to be. This checks the real shape, with
// V8's own %HasFastProperties, in a child process started with --allow-natives-syntax.
const PROBE = `
import { demandSource } from ${JSON.stringify(fileURLToPath(new URL('../lib/core/producer.ts', import.meta.url)))};
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)');
let sink;
let handle;
const source = demandSource('probe', (s) => {
  sink = s;
  return { pump() { while (s.demand > 0) s.next(1); }, teardown() {} };
});
let received = 0;
source[Symbol.for('rxjs-backpressure.demand')].subscribe({
  start(h) { handle = h; },
  next() { received++; },
  error() {},
  complete() {},
});
handle.request(3);
console.log(JSON.stringify({ sink: hasFastProperties(sink), handle: hasFastProperties(handle), received }));
`;

describe('the producer kernel', () => {
  it('keeps its sink and handle in fast (non-dictionary) mode', () => {
    const child = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module'], {
      input: PROBE,
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ sink: true, handle: true, received: 3 });
  });
});
