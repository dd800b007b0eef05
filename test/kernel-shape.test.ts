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

/** Runs a probe module with V8's natives syntax; it must print one JSON line and nothing on stderr. */
function runProbe(input: string): unknown {
  const child = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module'], {
    input,
    encoding: 'utf8',
  });
  expect(child.stderr).toBe('');
  return JSON.parse(child.stdout);
}

describe('the producer kernel', () => {
  it('keeps its sink and handle in fast (non-dictionary) mode', () => {
    expect(runProbe(PROBE)).toEqual({ sink: true, handle: true, received: 3 });
  });
});

// The pool makes a task per value and reads it at many sites: every task must have one map,
// whatever the pool's options, or those sites turn polymorphic. What only some pools use (a
// signal, a timeout, a retry's backoff) lives in `task.extra`, never added
// to the task itself.
const TASK_PROBE = `
import { Task, TaskContext } from ${JSON.stringify(fileURLToPath(new URL('../lib/pool/task.ts', import.meta.url)))};
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)');
const fast = new Function('o', 'return %HasFastProperties(o)');
const host = { onResult() {}, onTaskComplete() {}, onTaskError() {} };
const plain = new Task(1, 0, host);
const rich = new Task(2, 1, host);
void new TaskContext(rich, 1).signal;
let cancelled = 0;
rich.more().timeoutTimer = { unsubscribe() { cancelled++; } };
rich.more().retryTimer = { unsubscribe() { cancelled++; } };
rich.error(new Error('inner'));
rich.key = 'k';
const richMap = { sameMap: sameMap(plain, rich), fast: fast(plain) && fast(rich) };
const signal = rich.extra.controller instanceof AbortController;
const cancelledTimers = (rich.extra.cancelTimers(), rich.extra.cancelTimers(), cancelled);
// A completed task is reused for a later value: the same map, every field back to its start but
// the token, which moves on at once, and a context kept from before reads its own value's index and never the new
// value's signal.
rich.fulfil = () => {};
rich.reject = () => {};
rich.token = 5;
const kept = new TaskContext(rich, 1);
const reused = rich.reuse('v', 7);
reused.token++; // the new value's first attempt
console.log(JSON.stringify({
  ...richMap,
  signal,
  plainExtra: plain.extra === undefined,
  cancelled: cancelledTimers,
  reused: {
    same: reused === rich,
    sameMap: sameMap(plain, reused) && fast(reused),
    fields: [reused.value, reused.index, reused.attempt, reused.key, reused.extra, reused.token],
    keptIndex: kept.index,
    keptSignalApart: kept.signal.aborted === false && reused.extra === undefined,
  },
}));
`;

describe('the pool task', () => {
  it('keeps one fast map whatever of its rarely used fields are set, also when reused for a later value', () => {
    expect(runProbe(TASK_PROBE)).toEqual({
      sameMap: true,
      fast: true,
      signal: true,
      plainExtra: true,
      cancelled: 2,
      reused: {
        same: true,
        sameMap: true,
        fields: ['v', 7, 0, null, null, 7],
        keptIndex: 1,
        keptSignalApart: true,
      },
    });
  });
});
