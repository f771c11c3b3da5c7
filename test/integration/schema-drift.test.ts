import { readFile } from 'node:fs/promises';
import { plugin as schemaAst } from '@graphql-codegen/schema-ast';
import { lexicographicSortSchema } from 'graphql';
import { describe, expect, test } from 'vitest';
import codegenConfig from '../../codegen.js';
import { buildAppSchema } from '../../src/resolvers/build-schema.js';

describe('schema.graphql', () => {
  test('the committed SDL is what the code builds (run `npm run codegen` after changing the schema)', async () => {
    const target = (codegenConfig.generates as Record<string, { config?: Record<string, unknown> }>)['schema.graphql']!;
    // codegen sorts the schema when it loads it (config `sort: true`)
    const printed = await schemaAst(lexicographicSortSchema(await buildAppSchema()), [], target.config ?? {});
    const committed = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(committed.trim()).toBe(String(printed).trim());
  });

  test('the contract names of the API exist', async () => {
    const sdl = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8');
    for (const field of [
      'checkpoints: [Checkpoint!]!',
      'registerCheckpoint(',
      'characterization(',
      'run(id: ID!): Run',
      'runs(',
      'sql(',
    ]) expect(sdl).toContain(field);
    for (const type of ['type LayerUpdate', 'type TensorUpdate', 'type UpdateStats', 'type SqlResult', 'input CharacterizationOptions']) expect(sdl).toContain(type);
  });
});
