// Counts the instructions one case costs per value, with valgrind's callgrind: a measure that does
// not move with the machine's load, where wall time on a shared machine moves 15% between runs.
// Each count is a process that warms up (--warm runs at 10^4) and then runs the case at one size;
// two sizes, and the difference divided by the difference of the sizes is the cost per value.
// Node runs with --perf-basic-prof, whose map file names the JIT code callgrind only sees as
// addresses. JS and V8's builtins read the same to the instruction from one run to the next; the
// collector and the compiler move by a few percent, and are shown apart (bench/tried.md, ninth pass).
//
//   node --import tsx bench/instructions.ts --case resolved-work[,resolved-ordered]
//     [--variant V] [--c 4] [--n0 100000] [--n1 300000] [--warm 50] [--top 15]
//     [--ref COMMIT | --worktree] [--node-flags '--max-inlined-bytecode-size-cumulative=4000']
//
// Needs valgrind (Debian's `valgrind`); a count at 3 × 10^5 takes about two minutes a case.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeSource, loadLibrary, ROOT } from './library.js';

const { values } = parseArgs({
  options: {
    case: { type: 'string', default: 'resolved-work' },
    variant: { type: 'string' },
    c: { type: 'string', default: '4' },
    n0: { type: 'string', default: '100000' },
    n1: { type: 'string', default: '300000' },
    warm: { type: 'string', default: '50' },
    top: { type: 'string', default: '15' },
    ref: { type: 'string', default: 'HEAD' },
    worktree: { type: 'boolean', default: false },
    'node-flags': { type: 'string', default: '' },
  },
});

const OUT = path.join(ROOT, '.tmp', 'instructions');

/** A numeric option, checked: NaN or a value below its floor would count nothing, or garbage. */
function count(name: 'c' | 'n0' | 'n1' | 'warm' | 'top', min: number): number {
  const text = values[name];
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`instructions: --${name} must be an integer >= ${min}, not ${text}`);
  return n;
}
const C = count('c', 1);
const N0 = count('n0', 1);
const N1 = count('n1', 2);
const WARM = count('warm', 0);
const TOP = count('top', 0);
if (N1 <= N0) throw new Error(`instructions: --n1 (${N1}) must be larger than --n0 (${N0})`);

/** Where a run's instructions went: JIT code by its name, native code by its symbol. */
type Counts = Map<string, number>;

interface MapEntry {
  start: number;
  end: number;
  name: string;
}

/** Runs one size under callgrind; returns the callgrind file and Node's perf map (its pid names it). */
async function countRun(caseId: string, n: number, stop: AbortSignal): Promise<{ cg: string; map: string }> {
  const tag = `${caseId}.${n}`;
  const cg = path.join(OUT, `cg.${tag}`);
  const request = { case: caseId, variant: values.variant, n, c: C, warm: WARM };
  const args = [
    '--tool=callgrind',
    `--callgrind-out-file=${cg}`,
    process.execPath,
    '--single-threaded',
    '--perf-basic-prof',
    ...values['node-flags'].split(' ').filter((f) => f !== ''),
    '--import',
    'tsx',
    path.join(ROOT, 'bench', 'instructions-child.ts'),
    JSON.stringify(request),
  ];
  // In OUT: the perf map flag makes V8 write an isolate-*-v8.log into its working directory.
  // The signal stops this size when the other one fails, so neither runs on unwatched.
  const child = spawn('valgrind', args, { cwd: OUT, stdio: ['ignore', 'pipe', 'pipe'], signal: stop });
  child.on('error', () => undefined); // an abort; 'close' reports it below
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) {
    await rm(`/tmp/perf-${child.pid}.map`, { force: true });
    throw new Error(`instructions: the run of ${tag} failed (${code}):\n${stderr.slice(-2000)}`);
  }
  const counted = (JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { count?: number }).count;
  if (counted !== n) throw new Error(`instructions: the run of ${tag} delivered ${counted} values, not ${n}`);
  return { cg, map: `/tmp/perf-${child.pid}.map` };
}

async function loadMap(file: string): Promise<MapEntry[]> {
  const entries: MapEntry[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const [start, size, ...name] = line.split(' ');
    if (start === undefined || size === undefined || name.length === 0) continue;
    const at = parseInt(start, 16);
    entries.push({
      start: at,
      end: at + parseInt(size, 16),
      name: name.join(' ').replace(/file:\/\/\S*?\/(bench|\.tmp)\//, '$1/'),
    });
  }
  return entries.sort((a, b) => a.start - b.start);
}

/** The map entry holding an address (binary search; JIT code does not overlap). */
function nameAt(entries: readonly MapEntry[], address: number): string | undefined {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const e = entries[mid]!;
    if (address < e.start) hi = mid - 1;
    else if (address >= e.end) lo = mid + 1;
    else return e.name;
  }
  return undefined;
}

/** Native symbols folded into the groups that move from run to run (so they are read apart). */
function nativeGroup(symbol: string): string {
  if (symbol.startsWith('v8::internal::compiler') || symbol.includes('Compil')) return '[V8 compiler]';
  if (/(heap::|v8::internal::)/.test(symbol) && /Scaveng|Heap|GC|Mark|Sweep|Evacuat/.test(symbol))
    return '[V8 collector]';
  return symbol;
}

async function loadCounts(run: { cg: string; map: string }): Promise<Counts> {
  const entries = await loadMap(run.map);
  const text = execFileSync('callgrind_annotate', ['--threshold=100', run.cg], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const counts: Counts = new Map();
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (m === null || m[2]!.includes('PROGRAM TOTALS')) continue;
    const address = /^\?\?\?:0x([0-9a-f]+) \[\?\?\?\]/.exec(m[2]!);
    const key = address
      ? (nameAt(entries, parseInt(address[1]!, 16)) ?? '[unnamed JIT code]')
      : nativeGroup(m[2]!.replace(/ \[\/.*$/, '').replace(/^\?\?\?:/, ''));
    counts.set(key, (counts.get(key) ?? 0) + Number(m[1]!.replace(/,/g, '')));
  }
  return counts;
}

const isJs = (key: string): boolean =>
  key.startsWith('JS:') || key.startsWith('Builtins_') || key.startsWith('Builtin:');

async function countCase(caseId: string): Promise<void> {
  const n0 = N0;
  const n1 = N1;
  // The two sizes run at once: each is one process on one core, and the counts do not depend on it.
  // When one fails the other is stopped, and both are awaited so no perf map is left behind.
  const stop = new AbortController();
  const runs = [countRun(caseId, n0, stop.signal), countRun(caseId, n1, stop.signal)].map((run) =>
    run.catch((error: unknown) => {
      stop.abort();
      throw error;
    }),
  );
  const settled = await Promise.allSettled(runs);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure !== undefined) {
    for (const s of settled) if (s.status === 'fulfilled') await rm(s.value.map, { force: true });
    const reason: unknown = failure.reason;
    throw reason instanceof Error ? reason : new Error(String(reason));
  }
  const [a, b] = settled.map((s) => (s as PromiseFulfilledResult<{ cg: string; map: string }>).value) as [
    { cg: string; map: string },
    { cg: string; map: string },
  ];
  const [ca, cb] = await Promise.all([loadCounts(a), loadCounts(b)]);
  await rm(a.map, { force: true });
  await rm(b.map, { force: true });
  const perValue = new Map<string, number>();
  for (const key of new Set([...ca.keys(), ...cb.keys()])) {
    perValue.set(key, ((cb.get(key) ?? 0) - (ca.get(key) ?? 0)) / (n1 - n0));
  }
  const sum = (pick: (key: string) => boolean): number => [...perValue].reduce((s, [k, v]) => (pick(k) ? s + v : s), 0);
  const js = sum(isJs);
  const gc = sum((k) => k === '[V8 collector]');
  const compiler = sum((k) => k === '[V8 compiler]');
  console.log(
    `\n${caseId} / ${values.variant ?? 'ours'} c=${C}, ${describeSource(source)}, N ${n0} → ${n1}: ` +
      `${js.toFixed(0)} instructions per value in JS and builtins (the steady figure); ` +
      `collector ${gc.toFixed(0)}, compiler ${compiler.toFixed(0)}, everything ${sum(() => true).toFixed(0)}`,
  );
  // A size difference can only add work: an entry that falls by more than noise means the two
  // processes compiled or loaded differently (a module read in one only, code optimised in other
  // chunks), and the difference is not the cost of values. Say so instead of printing a figure as if steady.
  const diverged = [...perValue].filter(([, v]) => v < -10);
  if (diverged.length > 0) {
    console.log(
      `  warning: ${diverged.length} entries fell from ${n0} to ${n1} (${diverged
        .slice(0, 3)
        .map(([k, v]) => `${k.slice(0, 50)} ${v.toFixed(0)}`)
        .join('; ')}): the two runs differ in more than their size; count again, or with more --warm`,
    );
  }
  const top = [...perValue].sort((x, y) => Math.abs(y[1]) - Math.abs(x[1])).slice(0, TOP);
  for (const [key, v] of top) console.log(`${v.toFixed(1).padStart(8)}  ${key.slice(0, 140)}`);
}

const source = { ref: values.worktree ? 'worktree' : values.ref };
await loadLibrary(source);
await mkdir(OUT, { recursive: true });
for (const caseId of values.case.split(',')) await countCase(caseId);
