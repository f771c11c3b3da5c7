/** Test harness: a planted trio on disk, a warehouse file and the app's services, always cleaned up. */
import 'reflect-metadata';
import { ApolloServer } from '@apollo/server';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DocumentNode, GraphQLFormattedError } from 'graphql';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type AppConfig } from '../../src/config.js';
import { writePlantedTrio, type PlantedTrio, type TrioOptions } from '../../src/engine/fixtures/index.js';
import { buildAppSchema } from '../../src/resolvers/build-schema.js';
import { createRequestContext, type RequestContext } from '../../src/resolvers/context.js';

export interface TestApp {
  dir: string;
  config: AppConfig;
  app: App;
  trio: PlantedTrio;
  /** runs an operation through Apollo (error formatting included) */
  execute<T = Record<string, unknown>>(query: string | DocumentNode, variables?: Record<string, unknown>): Promise<{ data?: T | null; errors?: readonly GraphQLFormattedError[] }>;
  close(): Promise<void>;
}

export async function createTestApp(trioOptions: TrioOptions = {}): Promise<TestApp> {
  const dir = await mkdtemp(join(tmpdir(), 'frankenscope-test-'));
  const { trio } = await writePlantedTrio(join(dir, 'models', 'planted'), { dtype: 'F32', ...trioOptions });
  const config: AppConfig = {
    ...loadConfig({}),
    warehousePath: join(dir, 'warehouse.duckdb'),
    modelRoots: [join(dir, 'models')],
    demoDir: join(dir, 'no-demo'),
    demoProbesDir: join(dir, 'no-demo-probes'),
    port: 0,
  };
  const app = await createApp(config);
  const apollo = new ApolloServer<RequestContext>({ schema: await buildAppSchema(), includeStacktraceInErrorResponses: false });
  await apollo.start();
  return {
    dir,
    config,
    app,
    trio,
    async execute(query, variables) {
      const response = await apollo.executeOperation(
        typeof query === 'string' ? { query, variables } : { query, variables },
        { contextValue: createRequestContext(app.services) },
      );
      if (response.body.kind !== 'single') throw new Error('unexpected incremental response');
      return response.body.singleResult as never;
    },
    async close() {
      await apollo.stop();
      await app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Registers the planted trio as planted/base, planted/sft, planted/rl. */
export async function registerPlantedTrio(t: TestApp): Promise<void> {
  for (const role of ['base', 'sft', 'rl']) {
    const r = await t.execute(`mutation($p: String!) { registerCheckpoint(path: $p) { id } }`, { p: `planted/${role}` });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
  }
}
