/**
 * GraphQL Code Generator: writes the SDL (schema.graphql, committed and
 * reviewed like code) from the type-graphql classes, typed documents for
 * the client operations in client/operations, and typed documents for the
 * dashboard's operations in web/src/operations. Run with `npm run codegen`.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'scripts/codegen-schema.ts',
  // documents are given per target: codegen adds root-level documents to every
  // target, and the CLI's and the dashboard's operations must not mix
  generates: {
    'schema.graphql': {
      plugins: ['schema-ast'],
      config: { includeDirectives: false, sort: true },
    },
    'client/generated/': {
      documents: ['client/operations/**/*.graphql'],
      preset: 'client',
      config: { useTypeImports: true, enumsAsTypes: true },
      presetConfig: { fragmentMasking: false },
    },
    'web/src/generated/': {
      documents: ['web/src/operations/**/*.graphql'],
      preset: 'client',
      // documents as strings: the browser bundle needs no graphql runtime to send them
      config: { useTypeImports: true, enumsAsTypes: true, documentMode: 'string' },
      presetConfig: { fragmentMasking: false },
    },
  },
  hooks: {},
};

export default config;
