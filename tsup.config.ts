import { defineConfig } from 'tsup';

export default defineConfig({
  // The subpaths are further entries (dist/node.*, dist/redis/); splitting puts the code they
  // share with the main entry in chunks, so one copy of each class (errors, monitors) serves
  // every entry, in ESM and CJS: an error thrown by a subpath is the one `instanceof` sees.
  entry: { index: 'index.ts', node: 'node.ts', 'redis/index': 'redis/index.ts' },
  splitting: true,
  format: ['esm', 'cjs'],
  // With "type": "module", tsup names ESM output .js/.d.ts and CJS output .cjs/.d.cts,
  // which is exactly what the exports map in package.json points at.
  dts: true,
  // rxjs is a peer dependency; the user's copy must be the one whose Observable/Subscription we see.
  external: ['rxjs', 'redis'],
  target: 'node20',
  sourcemap: true,
  clean: true,
});
