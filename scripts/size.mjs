// Size budgets: what each export costs an application that imports it alone.
//
//   npm run size               checks every export against scripts/size-budgets.json
//   npm run size -- --update   writes the current sizes (+ headroom) as the new budgets
//
// Each runtime export of index.ts (and of node.ts, the rxjs-backpressure/node entry) is bundled
// alone with esbuild from the sources, minified, tree-shaken, then gzipped, twice:
// - `own`: rxjs external, i.e. this package's own code;
// - `app`: rxjs bundled too, i.e. what an application that used nothing else would ship.
// A reference row bundles RxJS's own mergeMap the same way, for comparison. A new export
// without a budget fails the check, so nothing grows unmeasured.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUDGETS = join(repo, 'scripts', 'size-budgets.json');
/** Room for small changes: 5 %, and at least 64 bytes. */
const headroom = (bytes) => Math.max(64, Math.ceil(bytes * 0.05));

const ENTRIES = [
  { file: 'index.ts', prefix: '', platform: 'browser' },
  // Resolved as for a browser too, so that `app` gets rxjs's ES module build (not its CJS one,
  // which cannot be tree-shaken); node:* stays external.
  { file: 'node.ts', prefix: 'node:', platform: 'browser' },
];

async function bundle(contents, platform, external) {
  const result = await build({
    stdin: { contents, resolveDir: repo, loader: 'ts', sourcefile: 'size-entry.ts' },
    bundle: true,
    minify: true,
    treeShaking: true,
    format: 'esm',
    platform,
    target: 'es2022',
    external,
    // The rxjs build an application bundler picks (Angular's esbuild builder, Vite: ES2015+).
    conditions: ['es2015'],
    mainFields: ['es2015', 'module', 'main'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length, metafile: result.metafile };
}

/** The names an entry exports at run time (types have no cost and are not listed). */
/** The modules whose code is in the output (the metafile also lists those tree-shaken away). */
function bundled(metafile) {
  const { inputs } = Object.values(metafile.outputs)[0];
  return Object.keys(inputs).filter((path) => inputs[path].bytesInOutput > 0);
}

async function runtimeExports(entry) {
  const { metafile } = await bundle(`export * from './${entry.file}';`, entry.platform, ['rxjs', 'node:*']);
  return Object.values(metafile.outputs)[0].exports.sort();
}

async function measure() {
  const rows = [];
  for (const entry of ENTRIES) {
    for (const name of await runtimeExports(entry)) {
      const source = `export { ${name} } from './${entry.file}';`;
      const own = await bundle(source, entry.platform, ['rxjs', 'node:*']);
      const app = await bundle(source, entry.platform, ['node:*']);
      rows.push({ name: entry.prefix + name, own: own.gzip, app: app.gzip, modules: bundled(app.metafile) });
    }
  }
  const reference = await bundle(`export { mergeMap } from 'rxjs';`, 'browser', []);
  return { rows, reference };
}

const kb = (bytes) => `${(bytes / 1024).toFixed(2)} KB`;

function report({ rows, reference }, budgets) {
  const failures = [];
  console.log('export                       own (min+gz)  budget      app (min+gz)  budget');
  for (const row of rows) {
    const budget = budgets[row.name];
    const cells = [
      row.name.padEnd(28),
      kb(row.own).padStart(10),
      (budget ? kb(budget.own) : '-').padStart(10),
      kb(row.app).padStart(14),
      (budget ? kb(budget.app) : '-').padStart(10),
    ];
    console.log(cells.join('  '));
    if (budget === undefined) failures.push(`${row.name}: no budget`);
    else {
      if (row.own > budget.own) failures.push(`${row.name}: own ${row.own} B > budget ${budget.own} B`);
      if (row.app > budget.app) failures.push(`${row.name}: app ${row.app} B > budget ${budget.app} B`);
    }
  }
  console.log(`${"reference: rxjs's mergeMap".padEnd(28)}  ${''.padStart(22)}  ${kb(reference.gzip).padStart(14)}`);
  const lean = rows.find((r) => r.name === 'boundedBuffer');
  if (lean !== undefined) {
    const has = (suffix) => lean.modules.some((m) => m.endsWith(suffix));
    const extra = [
      has('lib/core/monitor.ts') && 'the Monitor class',
      has('/internal/Subject.js') && "rxjs's Subject",
    ].filter(Boolean);
    console.log(
      `\nboundedBuffer without a monitor: ${kb(lean.own)} own, ${kb(lean.app)} in an app; ` +
        (extra.length > 0 ? `it still bundles ${extra.join(' and ')}.` : 'it bundles no monitor code.'),
    );
  }
  return failures;
}

const measured = await measure();
if (process.argv.includes('--update')) {
  const budgets = Object.fromEntries(
    measured.rows.map((r) => [r.name, { own: r.own + headroom(r.own), app: r.app + headroom(r.app) }]),
  );
  writeFileSync(BUDGETS, `${JSON.stringify(budgets, null, 2)}\n`);
  report(measured, budgets);
  console.log(`\nsize: wrote ${measured.rows.length} budgets to scripts/size-budgets.json`);
} else {
  const budgets = JSON.parse(readFileSync(BUDGETS, 'utf8'));
  const failures = report(measured, budgets);
  const gone = Object.keys(budgets).filter((name) => !measured.rows.some((r) => r.name === name));
  if (gone.length > 0) console.log(`\nbudgets for exports that no longer exist: ${gone.join(', ')}`);
  if (failures.length > 0) {
    console.error(`\nsize: over budget or unbudgeted:\n  ${failures.join('\n  ')}`);
    console.error('Make it smaller, or accept the new size with `npm run size -- --update` and say why in the commit.');
    process.exitCode = 1;
  } else {
    console.log(`\nsize: ${measured.rows.length} exports within budget`);
  }
}
