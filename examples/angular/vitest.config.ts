import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The tests run on ngc's output in out-tsc/ (`npm run build` first): AOT-compiled components with
// strict templates, not a JIT re-compilation of the sources. The library is compiled into
// out-tsc/ too (tsconfig paths map 'rxjs-backpressure' to ../../index.ts), and this alias points
// the emitted import at it, so the app and the library share this package's single rxjs.
const out = (path: string): string => fileURLToPath(new URL(`./out-tsc/${path}`, import.meta.url));

export default defineConfig({
  resolve: { alias: { 'rxjs-backpressure': out('index.js') } },
  test: {
    include: ['out-tsc/examples/angular/src/**/*.spec.js'],
    environment: 'happy-dom',
    setupFiles: [out('examples/angular/src/test-setup.js')],
    watch: false,
    testTimeout: 15_000,
  },
});
