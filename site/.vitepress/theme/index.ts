// VitePress looks for its theme here; it lives in site/theme/, where tsc and ESLint check it.
export { default } from '../../theme/index.js';
