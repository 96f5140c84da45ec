// typescript-eslint reads the program through TypeScript's JavaScript API, which the project's
// TypeScript 7 (the native compiler) does not have; its peer range stops below 6.1. This
// workspace gives it TypeScript 6: npm keeps this package's dependencies in its own
// node_modules, because the root's `typescript` is 7 (docs/development.md, Lint).
import { createRequire } from 'node:module';
import tseslint from 'typescript-eslint';

// Fail loudly, not with a strange parser error, if an install ever hoists typescript-eslint or
// one of its helpers next to TypeScript 7.
for (const from of ['typescript-eslint', '@typescript-eslint/typescript-estree', 'ts-api-utils']) {
  const require = createRequire(createRequire(import.meta.url).resolve(from));
  const version = require('typescript').version;
  if (!version.startsWith('6.')) {
    throw new Error(`${from} resolves TypeScript ${version}; it needs the TypeScript 6 of packages/lint (run npm ci)`);
  }
}

export default tseslint;
