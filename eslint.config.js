// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'docs/', 'coverage/', '.tmp/'] },
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
