// Runs one implementation of one case under `node --cpu-prof` in a child process and sums the
// samples of the measured run by function (self time), with file:line mapped back to the
// TypeScript source through the bundle's source map. Used by bench/profile.ts and --write-docs.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILT, ROOT, sourceRelative } from './library.js';

export interface ProfileRequest {
  case: string;
  /** The implementation's variant; the case's primary (ours) when omitted. */
  variant?: string;
  n: number;
  c: number;
}

export interface HotSpot {
  selfPercent: number;
  selfMs: number;
  fn: string;
  /** file:line, relative to the repository (node:internal/... for Node's own code). */
  where: string;
}

export interface ProfileResult {
  request: ProfileRequest;
  runMs: number;
  /** Time charged to (idle) (the event loop polling), left out of the hot spots and their percentages. */
  idleMs: number;
  file: string;
  hotSpots: HotSpot[];
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface CpuProfile {
  startTime: number;
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  timeDeltas: number[];
}

const CHILD = fileURLToPath(new URL('./profile-child.ts', import.meta.url));

/** Expects the library to be built already (loadLibrary); profiles that build. */
export async function profile(request: ProfileRequest, top = 15): Promise<ProfileResult> {
  const dir = await mkdtemp(path.join(ROOT, '.tmp', 'profile-'));
  const window = path.join(dir, 'window.json');
  const child = spawnSync(
    process.execPath,
    [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      '--enable-source-maps',
      // V8 flags for this run only (bench/profile.ts): --no-turbo-inlining, say.
      ...(process.env.PROFILE_FLAGS ?? '').split(' ').filter(Boolean),
      // 10x the default sampling rate: a 100 ms run gets a thousand samples, not a hundred.
      '--cpu-prof-interval=100',
      '--import',
      'tsx',
      CHILD,
      JSON.stringify(request),
      window,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (child.status !== 0) throw new Error(`profiled run failed (${child.status ?? child.signal})`);
  const file = path.join(
    dir,
    (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'))!,
  );
  const data = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const measured = JSON.parse(await readFile(window, 'utf8')) as {
    start: number;
    end: number;
    maps?: Record<string, ConstructorParameters<typeof SourceMap>[0]>;
  };
  const benchMaps = new Map(Object.entries(measured.maps ?? {}).map(([url, payload]) => [url, new SourceMap(payload)]));
  const map = new SourceMap(
    JSON.parse(await readFile(`${BUILT}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0],
  );
  const builtUrl = `file://${BUILT}`;

  const where = (frame: CallFrame): string => {
    if (frame.url === '') return '(native)';
    if (frame.url === builtUrl) {
      const entry = map.findEntry(frame.lineNumber, frame.columnNumber);
      if ('originalSource' in entry) {
        const source = path.resolve(path.dirname(BUILT), entry.originalSource.replace(/^file:\/\//, ''));
        return `${sourceRelative(source)}:${entry.originalLine + 1}`;
      }
    }
    const f = frame.url.startsWith('file:') ? path.relative(ROOT, fileURLToPath(frame.url)) : frame.url;
    // The benchmark's own files go through tsx, which puts a module on one line: its map has the line.
    const benchMap = benchMaps.get(frame.url);
    if (benchMap !== undefined) {
      const entry = benchMap.findEntry(frame.lineNumber, frame.columnNumber);
      if ('originalLine' in entry) return `${f}:${entry.originalLine + 1}`;
    }
    return `${f}:${frame.lineNumber + 1}`;
  };

  // Self time: each sample is charged to the frame on top of the stack; only the measured run's.
  const byId = new Map(data.nodes.map((node) => [node.id, node.callFrame]));
  const self = new Map<string, { fn: string; where: string; us: number }>();
  let total = 0;
  let idleUs = 0;
  let at = data.startTime;
  data.samples.forEach((id, i) => {
    const us = data.timeDeltas[i] ?? 0;
    at += us;
    if (at < measured.start || at > measured.end) return;
    const frame = byId.get(id)!;
    // Samples taken while the event loop polls are charged to (idle): not work, so not counted.
    if (frame.functionName === '(idle)') {
      idleUs += us;
      return;
    }
    const fn = frame.functionName || '(anonymous)';
    const loc = where(frame);
    const key = `${fn} ${loc}`;
    const entry = self.get(key) ?? { fn, where: loc, us: 0 };
    entry.us += us;
    self.set(key, entry);
    total += us;
  });
  const hotSpots = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ selfPercent: (e.us / total) * 100, selfMs: e.us / 1000, fn: e.fn, where: e.where }));
  return {
    request,
    runMs: (measured.end - measured.start) / 1000,
    idleMs: idleUs / 1000,
    file: path.relative(ROOT, file),
    hotSpots,
  };
}
