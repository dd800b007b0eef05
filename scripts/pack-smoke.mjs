// Installs the packed tarball into a scratch project and checks what a user would see:
// ESM import, CJS require, and TypeScript types under node16 resolution from .mts and .cts.
// publint and attw inspect the tarball statically; this one actually runs it.
// Works offline: rxjs and @types/node are linked from this repo's node_modules, not fetched.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const NAME = 'rxjs-backpressure';
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Under `npm run`, reuse the npm that launched us (a JS file, so no shell is needed on Windows).
const npmCli = process.env.npm_execpath;
const npm = (args) => (npmCli ? [process.execPath, [npmCli, ...args]] : ['npm', args]);

class SmokeError extends Error {}

function fail(message) {
  throw new SmokeError(message);
}

// Drop the npm_* variables `npm run` exports, so the nested npm works on the scratch
// project rather than inheriting this package's lifecycle context.
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_(package|lifecycle|config_local_prefix)/i.test(k)),
);

function run(step, [file, args], cwd) {
  try {
    return execFileSync(file, args, {
      cwd,
      env: cleanEnv,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const out = [err.stdout, err.stderr].filter(Boolean).join('\n').trim();
    fail(`${step} failed (${[file, ...args].join(' ')}):\n${out || err.message}`);
  }
}

function linkFromRepo(scratch, pkg) {
  const source = join(repo, 'node_modules', pkg);
  if (!existsSync(source)) fail(`${source} is missing; run \`npm ci\` first.`);
  const target = join(scratch, 'node_modules', pkg);
  mkdirSync(dirname(target), { recursive: true });
  // Node and tsc follow the link to its real path, so rxjs still finds the repo's tslib.
  symlinkSync(realpathSync(source), target, 'junction');
}

function main(tmp) {
  for (const f of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']) {
    if (!existsSync(join(repo, 'dist', f))) fail(`dist/${f} is missing; run \`npm run build\` first.`);
  }

  const packed = JSON.parse(run('npm pack', npm(['pack', '--json', '--pack-destination', tmp]), repo));
  const tarball = join(tmp, packed[0].filename);

  const app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'smoke-app', private: true }, null, 2));
  // --legacy-peer-deps: the rxjs peer is linked below instead of being resolved from a registry.
  run(
    'npm install of the tarball',
    npm([
      'install',
      '--offline',
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
      '--legacy-peer-deps',
      '--ignore-scripts',
      tarball,
    ]),
    app,
  );
  linkFromRepo(app, 'rxjs');
  linkFromRepo(app, '@types/node');

  writeFileSync(
    join(app, 'esm.mjs'),
    `import * as lib from '${NAME}';
import { fileURLToPath } from 'node:url';
if (typeof lib.boundedBuffer !== 'function') throw new Error('ESM: boundedBuffer is ' + typeof lib.boundedBuffer);
console.log(fileURLToPath(import.meta.resolve('${NAME}')));
`,
  );
  writeFileSync(
    join(app, 'cjs.cjs'),
    `const lib = require('${NAME}');
if (typeof lib.boundedBuffer !== 'function') throw new Error('CJS: boundedBuffer is ' + typeof lib.boundedBuffer);
console.log(require.resolve('${NAME}'));
`,
  );
  // The Redis subpath: loads without `redis` installed (it is an optional peer and never
  // imported at run time), and shares the main entry's classes (one chunk, in ESM and in CJS).
  writeFileSync(
    join(app, 'redis-esm.mjs'),
    `import * as redis from '${NAME}/redis';
import { fileURLToPath } from 'node:url';
import * as lib from '${NAME}';
if (typeof redis.fromRedisStream !== 'function') throw new Error('ESM: fromRedisStream is ' + typeof redis.fromRedisStream);
if (typeof redis.ackAfter !== 'function' || typeof redis.toRedisStream !== 'function') throw new Error('ESM: redis exports missing');
if ('fromRedisStream' in lib) throw new Error('ESM: the main entry must not export the Redis subpath');
console.log(fileURLToPath(import.meta.resolve('${NAME}/redis')));
`,
  );
  writeFileSync(
    join(app, 'redis-cjs.cjs'),
    `const redis = require('${NAME}/redis');
if (typeof redis.fromRedisStream !== 'function') throw new Error('CJS: fromRedisStream is ' + typeof redis.fromRedisStream);
if (typeof redis.ackAfter !== 'function' || typeof redis.toRedisStream !== 'function') throw new Error('CJS: redis exports missing');
console.log(require.resolve('${NAME}/redis'));
`,
  );
  const redisEsmFile = run('ESM import of /redis', [process.execPath, ['redis-esm.mjs']], app).trim();
  const redisCjsFile = run('CJS require of /redis', [process.execPath, ['redis-cjs.cjs']], app).trim();
  if (!/redis[\\/]index\.js$/.test(redisEsmFile)) fail(`ESM import of /redis resolved to ${redisEsmFile}`);
  if (!/redis[\\/]index\.cjs$/.test(redisCjsFile)) fail(`CJS require of /redis resolved to ${redisCjsFile}`);

  const esmFile = run('ESM import', [process.execPath, ['esm.mjs']], app).trim();
  const cjsFile = run('CJS require', [process.execPath, ['cjs.cjs']], app).trim();
  if (!esmFile.endsWith('index.js')) fail(`ESM import resolved to ${esmFile}, expected dist/index.js`);
  if (!cjsFile.endsWith('index.cjs')) fail(`CJS require resolved to ${cjsFile}, expected dist/index.cjs`);

  // Assigning to a function type fails if the import is missing (TS2305) or untyped (TS7016 under strict).
  const usage = `import { boundedBuffer } from '${NAME}';
import { fromRedisStream, type RedisStreamSource } from '${NAME}/redis';
import type { MonoTypeOperatorFunction } from 'rxjs';
export const fn: (...args: never[]) => MonoTypeOperatorFunction<number> = boundedBuffer;
export const redisFn: (...args: never[]) => RedisStreamSource = fromRedisStream;
`;
  writeFileSync(join(app, 'esm.mts'), usage);
  writeFileSync(join(app, 'cjs.cts'), usage);
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'es2022',
          lib: ['es2022'],
          types: ['node'],
          strict: true,
          noEmit: true,
          // Check the shipped .d.ts/.d.cts themselves, not just that they resolve.
          skipLibCheck: false,
        },
        files: ['esm.mts', 'cjs.cts'],
      },
      null,
      2,
    ),
  );
  const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
  run('tsc (node16, .mts + .cts)', [process.execPath, [tsc, '-p', 'tsconfig.json']], app);
  const listed = run('tsc --listFilesOnly', [process.execPath, [tsc, '-p', 'tsconfig.json', '--listFilesOnly']], app);
  for (const dts of ['index.d.ts', 'index.d.cts', 'redis/index.d.ts', 'redis/index.d.cts']) {
    const path = dts.replaceAll('.', '\\.').replaceAll('/', '[\\\\/]');
    const re = new RegExp(`node_modules[\\\\/]${NAME}[\\\\/]dist[\\\\/]${path}$`, 'm');
    if (!re.test(listed)) fail(`tsc did not load ${NAME}/dist/${dts}; files it loaded:\n${listed}`);
  }

  console.log(`pack-smoke: ${packed[0].filename} OK`);
  console.log(`  import  -> ${esmFile}`);
  console.log(`  require -> ${cjsFile}`);
  console.log(`  import  -> ${redisEsmFile}`);
  console.log(`  require -> ${redisCjsFile}`);
  console.log('  tsc node16: esm.mts -> dist/index.d.ts, cjs.cts -> dist/index.d.cts');
}

const tmp = mkdtempSync(join(tmpdir(), `${NAME}-smoke-`));
try {
  main(tmp);
} catch (err) {
  console.error(`pack-smoke: FAILED\n${err instanceof SmokeError ? err.message : (err?.stack ?? err)}`);
  process.exitCode = 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
