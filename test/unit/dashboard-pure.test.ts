/** The dashboard's pure modules: URL state, CSV, region bands, chart specs and the builder's recipe. */
import { describe, expect, test } from 'vitest';
import { toCsv } from '../../web/src/csv.js';
import { builderRecipe } from '../../web/src/recipe.js';
import { defaultCuts, llmShades, unifiedShades } from '../../web/src/regions.js';
import { layerCurveSpec } from '../../web/src/specs.js';
import { defaultTrio, formatState, parseIntList, parsePositiveInt, parseState, patchState, switchView, viewOf } from '../../web/src/state.js';

describe('URL state', () => {
  test('a state survives formatting and parsing, with shared keys first and ids readable', () => {
    const state = { tasks: 'ocr,counting', view: 'localization', probes: 'demo/pairs', base: 'demo/base', maxExamples: '2', note: 'a b&c=d' };
    const hash = formatState(state);
    expect(hash.startsWith('#view=localization&base=demo/base&probes=demo/pairs&')).toBe(true);
    expect(parseState(hash)).toEqual(state);
    // equal states give equal links whatever the order they were written in
    expect(formatState({ maxExamples: '2', view: 'localization' })).toBe(formatState({ view: 'localization', maxExamples: '2' }));
  });

  test('empty values are dropped and query strings read like hashes', () => {
    expect(parseState('?view=necessity&frozen=&run=1')).toEqual({ view: 'necessity', run: '1' });
    expect(viewOf(parseState('#view=nonsense'))).toBe('characterization');
  });

  test('patching removes keys given null or empty, and switching views keeps only the shared keys', () => {
    const state = { view: 'localization', base: 'b', sft: 's', rl: 'r', probes: 'p', maxExamples: '2', run: '1' };
    expect(patchState(state, { run: null, maxExamples: '', scoring: 'TEACHER_FORCED' })).toEqual({ view: 'localization', base: 'b', sft: 's', rl: 'r', probes: 'p', scoring: 'TEACHER_FORCED' });
    expect(switchView(state, 'necessity')).toEqual({ view: 'necessity', base: 'b', sft: 's', rl: 'r', probes: 'p' });
  });

  test('numeric options are validated with the field named', () => {
    expect(parseIntList(' 1, 3,6 ', 'layers')).toEqual([1, 3, 6]);
    expect(parseIntList('', 'layers')).toBeNull();
    expect(() => parseIntList('1,x', 'layers')).toThrow(/'layers' must be a comma-separated list of integers, got '1,x'/);
    expect(parsePositiveInt('4', 'max examples')).toBe(4);
    expect(() => parsePositiveInt('0', 'max examples')).toThrow(/'max examples' must be a positive integer, got '0'/);
    expect(() => parsePositiveInt('2.5', 'max examples')).toThrow(RangeError);
  });

  test('the default trio is found by role suffix, not by position or prefix', () => {
    expect(defaultTrio(['demo/base', 'demo/rl', 'demo/rl-freeze-early', 'demo/sft'])).toEqual({ base: 'demo/base', sft: 'demo/sft', rl: 'demo/rl' });
    expect(defaultTrio(['x/rl-freeze-late', 'x/in', 'x/rl', 'x/base'])).toEqual({ base: 'x/base', sft: 'x/in', rl: 'x/rl' });
    expect(defaultTrio(['a', 'b', 'c'])).toEqual({ base: 'a', sft: 'b', rl: 'c' });
  });
});

describe('CSV', () => {
  test('quotes what needs quoting, keeps numbers exact and empties nulls', () => {
    const csv = toCsv(
      [
        { key: 'name', label: 'name' },
        { key: 'value', label: 'value, exact' },
      ],
      [
        { name: 'say "hi"', value: 0.1 + 0.2 },
        { name: 'two\nlines', value: null },
        { name: '=SUM(A1)', value: -3 },
      ],
    );
    expect(csv).toBe('name,"value, exact"\r\n"say ""hi""",0.30000000000000004\r\n"two\nlines",\r\n\'=SUM(A1),-3\r\n');
  });
});

describe('region bands', () => {
  test('the LLM thirds follow METHOD.md: floor(N/3), floor(2N/3) over 0-based layers, drawn on index = layer + 1', () => {
    expect(defaultCuts(28)).toEqual([9, 18]);
    expect(llmShades(6)).toEqual([
      { region: 'early', start: 0.5, end: 2.5 },
      { region: 'middle', start: 2.5, end: 4.5 },
      { region: 'late', start: 4.5, end: 6.5 },
    ]);
    // fewer than three layers: an empty third draws no band
    expect(llmShades(2).map((s) => s.region)).toEqual(['middle', 'late']);
  });

  test('unified bands span each section and region of the characterization layers', () => {
    const layers = [
      { index: -2, section: 'VISION', region: null },
      { index: -1, section: 'VISION', region: null },
      { index: 0, section: 'PROJECTOR', region: null },
      { index: 1, section: 'LLM', region: 'EARLY' },
      { index: 2, section: 'LLM', region: 'MIDDLE' },
      { index: 3, section: 'LLM', region: 'LATE' },
      { index: 4, section: 'LLM', region: 'LATE' },
    ];
    expect(unifiedShades(layers)).toEqual([
      { region: 'vision', start: -2.5, end: -0.5 },
      { region: 'projector', start: -0.5, end: 0.5 },
      { region: 'early', start: 0.5, end: 1.5 },
      { region: 'middle', start: 1.5, end: 2.5 },
      { region: 'late', start: 2.5, end: 4.5 },
    ]);
  });
});

describe('chart specs', () => {
  test('a log axis leaves out the points it cannot draw, a linear one only the missing ones', () => {
    const points = [
      { index: 1, series: 'SFT', value: 2 },
      { index: 2, series: 'SFT', value: 0 },
      { index: 3, series: 'SFT', value: null },
    ];
    const drawn = (spec: ReturnType<typeof layerCurveSpec>) => ((spec as { layer: { data: { values: unknown[] } }[] }).layer[1]!.data.values as { index: number }[]).map((p) => p.index);
    expect(drawn(layerCurveSpec({ points, shades: [], yTitle: 'v', scale: 'log' }))).toEqual([1]);
    expect(drawn(layerCurveSpec({ points, shades: [], yTitle: 'v' }))).toEqual([1, 2]);
  });
});

describe('variant builder recipe', () => {
  test('each method becomes its docs/merging.md operation over [from, to)', () => {
    const fields = { base: 'demo/sft', donor: 'demo/rl', from: 2, to: 6, component: 'mlp', alpha: 0.25 };
    expect(builderRecipe({ ...fields, method: 'splice' })).toEqual({
      base: 'demo/sft',
      donors: ['demo/rl'],
      operations: [{ op: 'splice', model: 'demo/rl', layers: { from: 2, to: 6 }, component: 'mlp' }],
      label: 'splice mlp of demo/rl layers 2-5 into demo/sft',
    });
    expect((builderRecipe({ ...fields, method: 'interpolate' }).operations as unknown[])[0]).toEqual({ op: 'interpolate', donor: 'demo/rl', alpha: 0.25, layers: { from: 2, to: 6 }, component: 'mlp' });
    expect((builderRecipe({ ...fields, method: 'slerp' }).operations as unknown[])[0]).toEqual({ op: 'slerp', model: 'demo/rl', t: 0.25, layers: { from: 2, to: 6 }, component: 'mlp' });
    expect(builderRecipe({ ...fields, method: 'splice', label: 'mine' }).label).toBe('mine');
  });

  test('an unknown method or an empty range is refused by name', () => {
    const fields = { base: 'a', donor: 'b', from: 2, to: 6, component: 'layer', alpha: 0.5 };
    expect(() => builderRecipe({ ...fields, method: 'ties' })).toThrow(/'method' must be one of splice, interpolate, slerp, got 'ties'/);
    expect(() => builderRecipe({ ...fields, method: 'splice', from: 6, to: 6 })).toThrow(/0 <= from < to/);
  });
});
