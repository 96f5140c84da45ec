// ESLint: `npm run lint` (docs/development.md, Lint, says why each rule is on or off).
import js from '@eslint/js';
import tseslint from 'rtms-lint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'data/', 'demo-output/', 'bench/results/', '**/node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'no-constant-condition': ['error', { checkLoops: 'allExceptWhileTrue' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
