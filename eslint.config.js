// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'docs/', 'coverage/', '.tmp/', 'examples/angular/'] },
  { ignores: ['site/pages/', 'site/.vitepress/'] },
  js.configs.recommended,
  // Type-aware rules catch floating promises and unsafe `any` flows, which matter in
  // subscription/teardown code; the repo is small enough that the type program builds in seconds.
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Operators relay upstream errors and AbortSignal reasons verbatim; those are `unknown`/`any`
      // by contract (RxJS errors are untyped), so wrapping them in Error would change user-visible errors.
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingUnknown: true, allowThrowingAny: true },
      ],
      // A `let` read by closures before its one assignment is how re-entrant subscribe() is handled
      // (the handle is still undefined during a synchronous callback); `const` would hit the TDZ.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `_`-prefixed names are deliberate placeholders (e.g. unused callback parameters).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  // The layers (docs/design.md, "Layout"): lib/core < lib/queue < lib/pool and lib/drain < operators < index.
  // A file may import its own layer and those below it, never one above.
  ...layerRules([
    ['lib/core/**/*.ts', ['../queue/*', '../pool/*', '../drain/*', '../../operators/*', '../../index.js']],
    ['lib/queue/**/*.ts', ['../pool/*', '../drain/*', '../../operators/*', '../../index.js']],
    ['lib/pool/**/*.ts', ['../drain/*', '../../operators/*', '../../index.js']],
    ['lib/drain/**/*.ts', ['../pool/*', '../../operators/*', '../../index.js']],
    ['operators/**/*.ts', ['../index.js']],
  ]),
  {
    // Small named functions, one per state change (docs/design.md): a longer one is split into
    // named parts or a class with small methods, as QueueStage and Pool are.
    files: ['lib/**/*.ts', 'operators/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 100, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests pass `async (v) => v` on purpose: a Promise-returning worker is the fixture.
      '@typescript-eslint/require-await': 'off',
      // `expectTypeOf(ch.send)` inspects a method's type without ever calling it.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Plain JS (this file, scripts/) is outside tsconfig, so it gets no type information.
    files: ['**/*.{js,mjs,cjs}'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    // The few Node globals our scripts use; not worth a `globals` dependency.
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
);

/**
 * One no-restricted-imports block per layer: importing any of `forbidden` (paths as written
 * relative to a file of the layer) fails the lint with the rule's reason.
 * @param {[string, string[]][]} layers
 */
function layerRules(layers) {
  return layers.map(([files, forbidden]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: forbidden,
              message: 'a lower layer must not import a higher one (docs/design.md, "Layout")',
            },
          ],
        },
      ],
    },
  }));
}
