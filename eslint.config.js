// ESLint flat config: JavaScript's and typescript-eslint's recommended rules (syntax only, no type information, so a
// lint of the whole tree stays a few seconds on two cores), plus rules that catch real bugs rather than style.
// Formatting is prettier's job (.prettierrc), so no rule here is about layout.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Rules beyond `recommended` that each catch a bug, not a style. */
const bugCatchers = {
  eqeqeq: ['error', 'smart'],
  'no-self-compare': 'error',
  'no-template-curly-in-string': 'error',
  'no-unmodified-loop-condition': 'error',
  'no-unreachable-loop': 'error',
  'no-constructor-return': 'error',
  'no-useless-assignment': 'error',
  'array-callback-return': 'error',
};

const unusedVars = [
  'error',
  { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
];

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'bench/.peers/**', 'bench/results/**', 'data/**'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'web/src/**/*.{ts,tsx}'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    rules: {
      ...bugCatchers,
      '@typescript-eslint/no-unused-vars': unusedVars,
      // `import type` keeps type-only imports out of the emitted JS, which matters for what runs in a browser.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  { files: ['src/**/*.ts', 'test/**/*.ts'], languageOptions: { globals: globals.node } },
  // A module augmentation must repeat the original's type parameters, used or not.
  { files: ['**/*.d.ts'], rules: { '@typescript-eslint/no-unused-vars': 'off' } },
  // The house rule is no `any` on public APIs; tests read loosely typed JSON frames and fake ws internals.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  { files: ['web/src/**/*.{ts,tsx}'], languageOptions: { globals: globals.browser } },
  {
    files: ['bench/**/*.mjs', 'scripts/**/*.mjs', 'bin/**/*.js', 'eslint.config.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
    rules: { ...bugCatchers, 'no-unused-vars': unusedVars },
  },
);
