// `npm pack` / `npm publish` run this first: publishing from a fresh clone must ship a dist/.
// It builds unless dist/ is already newer than every input of the build (as make decides), so
// the packs that `npm test` makes right after its own build do not build twice more.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const INPUTS = ['index.ts', 'node.ts', 'lib', 'operators', 'package.json', 'tsup.config.ts', 'tsconfig.json'];
const OUTPUTS = [
  'index.js',
  'index.cjs',
  'index.d.ts',
  'index.d.cts',
  'node.js',
  'node.cjs',
  'node.d.ts',
  'node.d.cts',
];

/** The mtimes of a file, or of every file below a directory. */
function mtimes(path) {
  if (!existsSync(path)) return [];
  const stat = statSync(path);
  if (!stat.isDirectory()) return [stat.mtimeMs];
  return readdirSync(path).flatMap((name) => mtimes(join(path, name)));
}

function upToDate() {
  const outputs = OUTPUTS.map((f) => join(repo, 'dist', f));
  if (!outputs.every((f) => existsSync(f))) return false;
  const oldestOutput = Math.min(...outputs.flatMap(mtimes));
  const newestInput = Math.max(...INPUTS.flatMap((p) => mtimes(join(repo, p))));
  return oldestOutput > newestInput;
}

if (process.argv.includes('--force') || !upToDate()) {
  // Quiet: `npm pack --json` prints its JSON on the same stdout.
  const tsupDir = join(repo, 'node_modules', 'tsup');
  const { bin } = JSON.parse(readFileSync(join(tsupDir, 'package.json'), 'utf8'));
  const cli = join(tsupDir, typeof bin === 'string' ? bin : bin.tsup);
  execFileSync(process.execPath, [cli, '--silent'], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
