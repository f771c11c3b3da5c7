/**
 * GraphQL Code Generator: writes the SDL (schema.graphql, committed and
 * reviewed like code) from the type-graphql classes, and typed documents for
 * the client operations in client/operations. Run with `npm run codegen`.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'scripts/codegen-schema.ts',
  documents: ['client/operations/**/*.graphql'],
  generates: {
    'schema.graphql': {
      plugins: ['schema-ast'],
      config: { includeDirectives: false, sort: true },
    },
    'client/generated/': {
      preset: 'client',
      config: { useTypeImports: true, enumsAsTypes: true },
      presetConfig: { fragmentMasking: false },
    },
  },
  hooks: {},
};

export default config;
