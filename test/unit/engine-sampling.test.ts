/**
 * Sampled generation: temperature 0 is greedy decoding; the same seed gives
 * the same tokens; the first sampled token follows softmax(logits / T) (its
 * empirical distribution over many rows is compared with the one computed
 * from the forward pass); suppressed ids never appear.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionPool } from '../../src/engine/runtime/ort-sessions.js';
import { sampleRow, uniformStream } from '../../src/engine/runtime/tasks.js';
import { testPool, textIds, tinySetup, type TinySetup } from './engine-fixtures.js';

let pool: SessionPool;
let tiny: TinySetup;
beforeAll(async () => {
  pool = await testPool();
  tiny = await tinySetup(pool, { textOnly: true, numLayers: 2 });
});
afterAll(async () => {
  await pool.release();
});

function softmax(logits: Float32Array, temperature: number): number[] {
  const max = Math.max(...logits);
  const e = [...logits].map((x) => Math.exp((x - max) / temperature));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

describe('sampleRow', () => {
  it('inverts the cumulative distribution', () => {
    const logits = Float32Array.from([Math.log(0.2), Math.log(0.5), Math.log(0.3)]);
    expect(sampleRow(logits, 0, 3, 1, 0.0)).toBe(0);
    expect(sampleRow(logits, 0, 3, 1, 0.19)).toBe(0);
    expect(sampleRow(logits, 0, 3, 1, 0.21)).toBe(1);
    expect(sampleRow(logits, 0, 3, 1, 0.69)).toBe(1);
    expect(sampleRow(logits, 0, 3, 1, 0.71)).toBe(2);
    expect(sampleRow(logits, 0, 3, 1, 0.999999)).toBe(2);
  });

  it('never picks a -Infinity logit', () => {
    const logits = Float32Array.from([-Infinity, 0, -Infinity]);
    const u = uniformStream(3);
    for (let i = 0; i < 100; i++) expect(sampleRow(logits, 0, 3, 0.7, u())).toBe(1);
  });
});

describe('sampled generation', () => {
  const prompt = () => ({ inputIds: textIds(tiny.model, 7, 11) });

  it('temperature 0 equals greedy decoding', async () => {
    const greedy = await tiny.runner.generate([prompt(), { inputIds: textIds(tiny.model, 4, 5) }], { maxNewTokens: 6 });
    const zero = await tiny.runner.generate([prompt(), { inputIds: textIds(tiny.model, 4, 5) }], { maxNewTokens: 6, temperature: 0, seed: 9 });
    expect(zero.tokens).toEqual(greedy.tokens);
  });

  it('repeats with the same seed and differs with another', async () => {
    const rows = Array.from({ length: 8 }, prompt);
    const a = await tiny.runner.generate(rows, { maxNewTokens: 5, temperature: 1, seed: 1 });
    const b = await tiny.runner.generate(rows, { maxNewTokens: 5, temperature: 1, seed: 1 });
    const c = await tiny.runner.generate(rows, { maxNewTokens: 5, temperature: 1, seed: 2 });
    expect(b.tokens).toEqual(a.tokens);
    expect(c.tokens).not.toEqual(a.tokens);
  });

  it('draws the first token from softmax(logits / T)', async () => {
    const V = tiny.model.modelConfig.vocabSize;
    const { logits } = await tiny.runner.forward([prompt()]);
    // a sharper temperature concentrates mass on few ids, so 2000 draws estimate it well
    const temperature = 0.25;
    const expected = softmax(logits.slice(0, V), temperature);
    const n = 2000;
    const out = await tiny.runner.generate(Array.from({ length: n }, prompt), { maxNewTokens: 1, temperature, seed: 4, eosTokenIds: [] });
    const counts = new Array<number>(V).fill(0);
    for (const t of out.tokens) counts[t[0]!]!++;
    const tv = counts.reduce((a, c, i) => a + Math.abs(c / n - expected[i]!), 0) / 2;
    // total variation of 2000 draws from the right distribution: well under 0.1; a wrong temperature or offset gives more
    expect(tv).toBeLessThan(0.08);
    const wrong = softmax(logits.slice(0, V), 1);
    expect(counts.reduce((a, c, i) => a + Math.abs(c / n - wrong[i]!), 0) / 2).toBeGreaterThan(0.1);
  });

  it('never generates a suppressed id; greedy then takes the best remaining one', async () => {
    const V = tiny.model.modelConfig.vocabSize;
    const { logits } = await tiny.runner.forward([prompt()]);
    const row = [...logits.slice(0, V)];
    const order = row.map((x, i) => [x, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i);
    const greedy = await tiny.runner.generate([prompt()], { maxNewTokens: 1, eosTokenIds: [], suppressTokenIds: [order[0]!] });
    expect(greedy.tokens[0]).toEqual([order[1]]);
    const banned = order.slice(0, 5);
    const sampled = await tiny.runner.generate(Array.from({ length: 64 }, prompt), { maxNewTokens: 4, temperature: 1, seed: 3, eosTokenIds: [], suppressTokenIds: banned });
    for (const t of sampled.tokens.flat()) expect(banned).not.toContain(t);
  });

  it('rejects a bad temperature or seed', async () => {
    await expect(tiny.runner.generate([prompt()], { maxNewTokens: 1, temperature: -1 })).rejects.toThrow(/'temperature'/);
    await expect(tiny.runner.generate([prompt()], { maxNewTokens: 1, temperature: 1, seed: 0.5 })).rejects.toThrow(/'seed'/);
  });
});
