import { defineConfig } from 'tsup';

export default defineConfig({
  // The Redis subpath is a second entry (dist/redis/); splitting puts the code both entries use
  // in shared chunks, so one copy of each class (errors, monitors) serves both, in ESM and CJS.
  entry: { index: 'index.ts', 'redis/index': 'redis/index.ts' },
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
