import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['index.ts', 'node.ts'],
  // One copy of the shared code for both entries, in CJS too (ESM splits by default): an error
  // class thrown by rxjs-backpressure/node must be the one `instanceof` sees from the main entry.
  splitting: true,
  format: ['esm', 'cjs'],
  // With "type": "module", tsup names ESM output .js/.d.ts and CJS output .cjs/.d.cts,
  // which is exactly what the exports map in package.json points at.
  dts: true,
  // rxjs is a peer dependency; the user's copy must be the one whose Observable/Subscription we see.
  external: ['rxjs'],
  target: 'node20',
  sourcemap: true,
  clean: true,
});
