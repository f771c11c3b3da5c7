/**
 * The demo recipe's bookkeeping: decoder thirds cut where the splice presets
 * cut them, freeze predicates select exactly one third's tensors, and
 * training examples equal to a probe question are dropped.
 */
import { describe, expect, it } from 'vitest';
import { paramShapes } from '../../src/train/config.js';
import { DEMO_MODEL, frozenBy, heldOutTraining, questionKey, thirdOf } from '../../src/train/demo.js';
import { trainingExamples } from '../../src/world/index.js';

describe('demo recipe', () => {
  it('cuts decoder thirds at floor(N/3), floor(2N/3)', () => {
    expect(Array.from({ length: 6 }, (_, i) => thirdOf(i, 6))).toEqual(['early', 'early', 'middle', 'middle', 'late', 'late']);
    expect(Array.from({ length: 7 }, (_, i) => thirdOf(i, 7))).toEqual(['early', 'early', 'middle', 'middle', 'late', 'late', 'late']);
  });

  it('freezes exactly the decoder tensors of one third', () => {
    const names = [...paramShapes(DEMO_MODEL).keys()];
    const frozen = names.filter(frozenBy('rl-freeze-middle', 6));
    const layers = new Set(frozen.map((n) => Number(/^model\.layers\.(\d+)\./.exec(n)![1])));
    expect([...layers].sort()).toEqual([2, 3]);
    expect(frozen.length).toBe(2 * names.filter((n) => n.startsWith('model.layers.0.')).length);
    expect(names.filter(frozenBy('rl', 6))).toEqual([]);
  });

  it('drops training examples that equal a probe question', () => {
    const all = trainingExamples(3, 40, { kinds: ['text', 'counting'] });
    const exclude = new Set([questionKey(all[0]!), questionKey(all[5]!)]);
    const kept = heldOutTraining(3, 40, ['text', 'counting'], exclude);
    expect(kept.map((e) => e.id)).toEqual(all.filter((_, i) => i !== 0 && i !== 5).map((e) => e.id));
  });
});
