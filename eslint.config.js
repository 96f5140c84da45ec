// ESLint: `npm run lint`. docs/development.md (Lint) says why each rule is on or off.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'rtms-lint';

export default defineConfig(
  { ignores: ['dist/', 'coverage/', 'data/', 'demo-output/', 'bench/results/', '**/node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A union switched on names every member, or says `default:` why the rest do nothing.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // A promise returned from inside try/catch/finally is awaited there, or its rejection skips the catch and the finally runs early.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // `_name` marks a binding kept on purpose (a destructured field left out, a callback's unused argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Passing on what a catch or an AbortSignal holds is not inventing a non-Error reason.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // ws types a message as Buffer | ArrayBuffer | Buffer[] whatever the socket's binaryType; no
      // socket here changes it from 'nodebuffer', so a message is a Buffer and String(data) is its text.
      '@typescript-eslint/no-base-to-string': ['error', { ignoredTypeNames: ['Error', 'RegExp', 'URL', 'URLSearchParams', 'ArrayBuffer'] }],
      // Off: `async` without `await` is how this code keeps an asynchronous signature (interfaces,
      // the simulator's API, test fakes) and turns a throw into a rejection; a forgotten `await`,
      // the rule's real target, is what no-floating-promises reports.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests compare answers with vitest's asymmetric matchers (expect.any(String), ...), which are
    // typed any; the comparison itself checks at run time what the type would.
    files: ['test/**', 'packages/*/test/**'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
