// One lint configuration for the whole tree: typescript-eslint's type-aware recommended rules
// (typed linting through the project service, so every file is checked with tsconfig.json's
// strict compiler options), with formatting left to Prettier (eslint-config-prettier turns off
// the rules it owns). `npx eslint .` covers src, runtime, test, bench, scripts and the JS build
// scripts; dist/ and build output are generated and not linted.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', 'build/', 'runtime/build/', '.bench/', 'coverage/'] },
  // A disable comment that no longer suppresses anything is an error, so none lingers.
  { linterOptions: { reportUnusedDisableDirectives: 'error', reportUnusedInlineConfigs: 'error' } },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Options, not a disable: a leading `_` marks a parameter an interface requires but this
      // implementation ignores, and `const { a: _a, ...rest } = o` is how a key is dropped from a
      // copy (rest siblings). Everything else unused is still an error.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  prettier,
);
