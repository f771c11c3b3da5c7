import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { writePlantedTrio } from '../../src/engine/fixtures/index.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { CharacterizationDocument, CheckpointsDocument } from '../../client/generated/graphql.js';
import { print, type DocumentNode } from 'graphql';

let dir: string;
let server: RunningServer;

async function post(body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; json: any }> {
  const res = await fetch(server.url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json().catch(() => null) };
}

const gql = (doc: DocumentNode, variables?: Record<string, unknown>) => post({ query: print(doc), variables });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'frankenscope-http-'));
  // large enough that the characterization runs for seconds in its worker thread
  await writePlantedTrio(join(dir, 'models', 'big'), { dtype: 'F16', hidden: 256, intermediate: 1024, numLayers: 6 });
  const config = { ...loadConfig({}), port: 0, warehousePath: join(dir, 'w.duckdb'), modelRoots: [join(dir, 'models')], demoDir: join(dir, 'models', 'big') };
  // the demo directory layout (base/sft/rl) is registered at start as demo/*
  server = await startServer(config);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('HTTP server', () => {
  test('registers the demo trio at start and lists it (typed client operation)', async () => {
    const { status, json } = await gql(CheckpointsDocument);
    expect(status).toBe(200);
    expect(json.data.checkpoints.map((c: { id: string }) => c.id)).toEqual(['demo/base', 'demo/rl', 'demo/sft']);
  });

  test('answers other queries while a characterization computes in its worker', async () => {
    const vars = { base: 'demo/base', sft: 'demo/sft', rl: 'demo/rl', waitSeconds: 0 };
    const started = await gql(CharacterizationDocument, vars);
    expect(started.json.errors).toBeUndefined();
    const runId = started.json.data.characterization.run.id;
    expect(['QUEUED', 'RUNNING']).toContain(started.json.data.characterization.status);
    // one request: the checkpoint list and the run's status, resolved together
    const during = await post({ query: `{ checkpoints { id } run(id: "${runId}") { status progress } }` });
    expect(during.json.data.checkpoints).toHaveLength(3);
    expect(during.json.data.run.status).toBe('RUNNING');
    let done;
    for (let i = 0; i < 60; i++) {
      done = await gql(CharacterizationDocument, { ...vars, waitSeconds: 5 });
      if (done.json.data.characterization.status !== 'RUNNING') break;
    }
    expect(done!.json.data.characterization.run.error).toBeNull();
    expect(done!.json.data.characterization.status).toBe('DONE');
    expect(done!.json.data.characterization.layers.length).toBe(3 + 1 + 6);
    expect(done!.json.data.characterization.run.id).toBe(runId);
  }, 300_000);

  test('malformed requests get clear errors, not stack traces', async () => {
    const notJson = await post('{"query": ');
    expect(notJson.status).toBe(400);
    expect(notJson.json.errors[0].message).toMatch(/not valid JSON/);
    const badField = await post({ query: '{ nope }' });
    expect(badField.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const refused = await post({ query: '{ sql(query: "DROP TABLE runs") { rows } }' });
    expect(refused.json.errors[0].extensions.code).toBe('SQL_REFUSED');
    expect(JSON.stringify([notJson.json, badField.json, refused.json])).not.toMatch(/stacktrace|\.ts:\d+/);
    const res = await fetch(server.url.replace('/graphql', '/nothing'));
    expect(res.status).toBe(404);
    const huge = await post({ query: `{ checkpoints { id } } #${'x'.repeat(2 << 20)}` });
    expect(huge.status).toBe(413);
    expect(huge.json.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    // the server still answers after refusing it
    expect((await post({ query: '{ checkpoints { id } }' })).status).toBe(200);
  });

  test('a port already in use fails the start cleanly and releases the warehouse', async () => {
    const port = Number(new URL(server.url).port);
    const config = { ...loadConfig({}), port, warehousePath: join(dir, 'other.duckdb'), modelRoots: [join(dir, 'models')], demoDir: join(dir, 'none') };
    await expect(startServer(config)).rejects.toThrow(/EADDRINUSE/);
    // the failed start closed its warehouse: the file can be opened again
    const again = await startServer({ ...config, port: 0 });
    await again.close();
  }, 60_000);
});
