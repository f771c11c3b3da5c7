/**
 * The mistakes the hardening issue names, each answered BAD_USER_INPUT with
 * the argument and its allowed range, and nothing written.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeTinyTrio } from '../../src/engine/fixtures/index.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  // the engine can run the tiny trio (not the planted one), so a necessity table resolves its models
  await writeTinyTrio(join(t.dir, 'models', 'tiny'), { numLayers: 4 });
  for (const role of ['sft', 'rl']) expect((await t.execute(`mutation { registerCheckpoint(path: "tiny/${role}") { id } }`)).errors).toBeUndefined();
});

afterAll(async () => {
  await t?.close();
});

async function refusal(query: string, variables?: Record<string, unknown>) {
  const r = await t.execute(query, variables);
  expect(r.errors, JSON.stringify(r.errors)).toHaveLength(1);
  return r.errors![0]!;
}

describe('argument mistakes are BAD_USER_INPUT', () => {
  test.each([0, -1, 10_001])('sql(maxRows: %i) names maxRows and its range', async (maxRows) => {
    const e = await refusal(`query($n: Int) { sql(query: "SELECT 1", maxRows: $n) { truncated } }`, { n: maxRows });
    expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'maxRows', allowed: { min: 1, max: 10_000 } });
    expect(e.message).toBe(`'maxRows' must be an integer from 1 to 10000, got ${maxRows}`);
  });

  test('a NUL byte in an export path is refused before anything is resolved or written', async () => {
    const before = await readdir(join(t.dir, 'models'));
    const e = await refusal(`mutation($p: String!) { exportVariant(recipe: { model: "no/such-model" }, path: $p) { id } }`, { p: 'exports/a\u0000b' });
    expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'path' });
    expect(e.message).toBe(`'path' must not contain a NUL byte (U+0000)`);
    expect(await readdir(join(t.dir, 'models'))).toEqual(before);
  });

  test('a NUL byte deep in a merge recipe names where it is', async () => {
    const recipe = { base: 'planted/sft', donors: ['planted/rl'], operations: [{ op: 'splice', model: 'planted/\u0000rl', layers: { from: 0, to: 1 } }] };
    const e = await refusal(`query($r: JSON) { variant(recipe: { recipe: $r }) { fingerprint } }`, { r: recipe });
    expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'recipe.recipe.operations[0].model' });
  });

  test('a 100 kB id is refused by length, without echoing it', async () => {
    const e = await refusal(`query($id: ID!) { run(id: $id) { id } }`, { id: 'x'.repeat(100 * 1024) });
    expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'id', allowed: { maxLength: 256 } });
    expect(e.message.length).toBeLessThan(200);
  });

  test('an empty id is refused rather than looked up', async () => {
    const e = await refusal(`{ localization(model: "", probeSet: "p", method: ZERO_ABLATION, waitSeconds: 0) { status } }`);
    expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'model' });
  });

  test('an out-of-range option names its path inside the input object', async () => {
    const e = await refusal(`{ localization(model: "m", probeSet: "p", method: ZERO_ABLATION, options: { layers: [1, 0] }, waitSeconds: 0) { status } }`);
    expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'options.layers[1]', allowed: { min: 1, max: 9999 } });
  });

  test("necessity's layerCuts beyond the model are refused as layerCuts, not as a derived recipe", async () => {
    const e = await refusal(`{ necessity(rl: "tiny/rl", sft: "tiny/sft", frozen: [], probeSet: "p", layerCuts: [1, 9999], waitSeconds: 0) { status } }`);
    expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'layerCuts' });
    expect(e.message).toMatch(/^'layerCuts' \[1, 9999\] must be integers with 0 <= a <= b <= 4 /);
  });

  test('layerCuts must be two ordered cuts', async () => {
    for (const cuts of [[], [3, 1], [1, 2, 3], [-1, 2]]) {
      const e = await refusal(`query($c: [Int!]) { transferability(sft: "a", rl: "b", probeSet: "p", layerCuts: $c, waitSeconds: 0) { status } }`, { c: cuts });
      expect(e.extensions?.code).toBe('BAD_USER_INPUT');
      expect(String(e.extensions?.argument)).toMatch(/^layerCuts/);
    }
  });
});
