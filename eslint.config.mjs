// ESLint for the whole workspace, run once from the root (`npm run lint`: `eslint . --max-warnings=0`).
// TypeScript (libs/, apps/, tools/: sources and tests) gets typescript-eslint's type-checked
// recommended rules, with types from each project's tsconfig through the project service.
// The .cjs/.mjs files (jest configs, worker-thread scripts, small tools) are in no tsconfig,
// so they get ESLint's plain JavaScript recommended rules.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Node's globals (process, Buffer, setTimeout, ...), read from the Node that runs ESLint, which
// is the Node that runs these files: no hand-kept list and no extra package.
const nodeGlobals = Object.fromEntries(Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly']));

export default defineConfig(
  globalIgnores(['**/dist/', '**/out-tsc/', '**/coverage/', '.nx/', 'tmp/', '**/.redis-test/']),
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // An async function with no await is how a synchronous body fulfils a Promise-returning contract
      // (test fakes, handlers, waitFor predicates, close/stop methods) and turns a throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // Passing on a reason as it came (a caught error, signal.reason) is allowed, as only-throw-error allows rethrowing.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // Omitting a key with a rest pattern (`const { a: _, ...rest } = o`) is fine, as tsc's noUnusedLocals has it.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: nodeGlobals },
  },
  {
    // the dashboard's browser modules (served as they are, no build step)
    files: ['apps/api/dashboard/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'sessionStorage', 'fetch', 'AbortController', 'TextDecoderStream', 'addEventListener', 'removeEventListener', 'setTimeout', 'clearTimeout', 'console', 'URLSearchParams'].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: ['**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: nodeGlobals },
  },
);
