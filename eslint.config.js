// One lint config for the whole workspace; every project runs it with --max-warnings 0.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const appNames = ['bonding', 'tunnel', 'netevd', 'p2p', 'supervisor'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/coverage/**', '**/node_modules/**', 'bench-results/**', '.nx/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', queueMicrotask: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly', structuredClone: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-console': 'off',
    },
  },
  {
    // Rule 1 of ARCHITECTURE.md: imports only go down. Packages never import apps.
    files: ['packages/**/*.ts', 'tools/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: appNames.map((n) => ({ group: [`@edgebox/${n}`, `@edgebox/${n}/*`], message: 'packages and tools never import apps (ARCHITECTURE.md rule 1)' })) }],
    },
  },
);
