// VitePress looks for its config here; it lives in site/config.ts, where tsc and ESLint check it.
export { default } from '../config.js';
