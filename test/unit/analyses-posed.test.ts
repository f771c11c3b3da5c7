/**
 * The reasoning setting shows a question as it was posed: a visual reasoning
 * question keeps its own picture (the same input as the 'target' choice), a
 * text question stays text-only (the same input as 'none'), and the setting
 * is wired to that choice.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputBuilder } from '../../src/engine/analyses/prepare.js';
import { SETTING_CONDITIONS } from '../../src/engine/analyses/score-variant.js';
import type { ResolvedExample } from '../../src/engine/analyses/types.js';
import { parseModelConfig } from '../../src/engine/model/config.js';
import { TextTokenizer } from '../../src/engine/model/tokenizer.js';
import { readFile } from 'node:fs/promises';

const DEMO = join(import.meta.dirname, '../../data/demo/sft');
const IMAGE = join(import.meta.dirname, '../../data/probes/world/probes/images/reasoning-0000.png');

function example(prompt: string, image: string | null): ResolvedExample {
  return {
    id: 'q', task: 'free', split: 'reasoning', prompt, images: { target: image ? 'x.png' : null, source: null }, answers: { target: 'x', source: null },
    description: null, tags: [], meta: {}, targetImagePath: image, sourceImagePath: null,
  } as ResolvedExample;
}

describe("the reasoning setting's 'posed' image choice", () => {
  it('keeps the own image of a visual question and leaves a text question text-only', async () => {
    const builder = new InputBuilder(parseModelConfig(JSON.parse(await readFile(join(DEMO, 'config.json'), 'utf8'))), await TextTokenizer.load(DEMO));
    const visual = example('<image>Which colour appears most often in the image? Answer with the colour name.', IMAGE);
    const posed = await builder.input(visual, 'posed');
    const target = await builder.input(visual, 'target');
    expect(posed.images).toHaveLength(1);
    expect(posed.inputIds).toEqual(target.inputIds);
    expect(Buffer.from(posed.images![0]!.patches.buffer).equals(Buffer.from(target.images![0]!.patches.buffer))).toBe(true);
    const text = example('What is 4 + 5?', null);
    const plain = await builder.input(text, 'posed');
    expect(plain.images).toBeUndefined();
    expect(plain.inputIds).toEqual((await builder.input(text, 'none')).inputIds);
    expect(SETTING_CONDITIONS.reasoning.map((c) => c.image)).toEqual(['posed']);
  });
});
