/**
 * The report's pure parts: Vega-Lite spec building and headless SVG
 * rendering, HTML escaping and number formatting, and the summary lines
 * computed from hand-made data whose answers are known by construction.
 */
import { describe, expect, test } from 'vitest';
import type { GroupRow, ReportData, TransferRow, UpdateStats } from '../../src/report/collect.js';
import { escapeHtml, formatValue, layerChartSpec, renderReport, renderSvg, summarise } from '../../src/report/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('layerChartSpec', () => {
  const points = [
    ...[1, 2, 3].map((index) => ({ index, value: index / 10, low: index / 20, high: index / 5, series: 'RL' })),
    ...[1, 2, 3].map((index) => ({ index, value: 0.5, series: 'IN' })),
  ];

  test('keeps the series in the order given, shades each band and fixes the y range on request', () => {
    const spec = layerChartSpec(points, { title: 't', yTitle: 'y', yDomain: [0, 1], bands: [{ from: 0.5, to: 1.5, label: 'early' }, { from: 1.5, to: 3.5, label: 'late' }] }) as Json;
    const marks = spec.layer.map((l: Json) => (typeof l.mark === 'string' ? l.mark : l.mark.type));
    // two band rects, their labels, the interval area, the curves
    expect(marks).toEqual(['rect', 'rect', 'text', 'area', 'line']);
    const line = spec.layer.at(-1);
    expect(line.encoding.color.scale.domain).toEqual(['RL', 'IN']);
    expect(line.encoding.y.scale.domain).toEqual([0, 1]);
    // only the points with an interval feed the area
    expect(spec.layer[3].data.values).toHaveLength(3);
  });

  test('draws no area without intervals and no bands when none are given', () => {
    const spec = layerChartSpec(points.filter((p) => p.series === 'IN'), { title: 't', yTitle: 'y' }) as Json;
    expect(spec.layer.map((l: Json) => l.mark.type)).toEqual(['line']);
    expect(spec.layer[0].encoding.y.scale).toBeUndefined();
  });

  test('renders to an SVG with one line path per series and nothing fetched', async () => {
    const svg = await renderSvg(layerChartSpec(points, { title: 'a <title> & more', yTitle: 'y', bands: [{ from: 0.5, to: 3.5, label: 'llm' }] }));
    expect(svg.startsWith('<svg')).toBe(true);
    const curves = [...svg.matchAll(/aria-roledescription="line mark"/g)];
    expect(curves).toHaveLength(2);
    expect(svg).not.toMatch(/(?:href|src)\s*=\s*["']?https?:/i);
    // the title is text in the SVG, escaped
    expect(svg).toContain('a &lt;title&gt; &amp; more');
  });
});

describe('escaping and number format', () => {
  test('escapeHtml neutralises markup and attribute quotes', () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'q'`)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;');
  });

  test('formatValue: fixed digits, small values in exponent form, a dash for none', () => {
    expect(formatValue(0.5)).toBe('0.500');
    expect(formatValue(1)).toBe('1.000');
    expect(formatValue(0)).toBe('0.000');
    expect(formatValue(-0.25)).toBe('-0.250');
    expect(formatValue(0.0004)).toBe('4.00e-4');
    expect(formatValue(null)).toBe('–');
    expect(formatValue(Number.NaN)).toBe('–');
  });
});

const stats = (relativeNorm: number): UpdateStats => ({ froNorm: relativeNorm * 10, relativeNorm, effectiveRank: 1, spectralNorm: 1, conditionNumber: 1 });
const group = (key: string, sft: number, rl: number): GroupRow => ({
  key, sft: { ...stats(sft), froNormSum: sft }, rl: { ...stats(rl), froNormSum: rl }, cosine: 0, tensorCount: 1,
});
const reasoningRow = (variant: string, accuracy: number): TransferRow => ({
  variant, setting: 'REASONING', fingerprint: variant, runId: variant, transition: null,
  conditions: [{ condition: 'question', task: 'all', accuracy, ciLow: accuracy, ciHigh: accuracy, n: 10 }],
});

/** A trio where SFT moved the middle third most, RL the early third, and the splices score as given. */
function data(splices: Record<string, number>, accIn: number, accRl: number): ReportData {
  const swap = (peakAt: number) => [1, 2, 3, 4].map((index) => ({ index, task: 'all', metric: 'change_rate', value: index <= peakAt ? 0.8 : 0.1, ciLow: null, ciHigh: null, n: 10 }));
  return {
    request: { base: 'b', sft: 'in', rl: 'rl', probes: 'q', pairs: 'p', frozen: ['frozen-early', 'frozen-late'], layerCuts: null, maxExamples: 0, maxNewTokens: 8 },
    checkpoints: [],
    probeSets: [],
    characterization: { runId: 'c', layers: [], regions: [group('early', 0.1, 0.9), group('middle', 0.3, 0.2), group('late', 0.2, 0.4)], sections: [] },
    swap: { sft: { runId: 's1', layers: swap(2) }, rl: { runId: 's2', layers: swap(3) } },
    ablation: { sft: { runId: 'a1', layers: [] }, rl: { runId: 'a2', layers: [] } },
    attentionShift: { runId: 'x', layers: [] },
    patching: { runId: 'y', layers: [] },
    transferability: { runIds: [], rows: [reasoningRow('in', accIn), reasoningRow('rl', accRl), ...Object.entries(splices).map(([v, a]) => reasoningRow(v, a))] },
    rlVersusIn: [{ conditionA: 'rl / question', conditionB: 'in / question', task: 'all', n: 10, nTT: 2, nTF: 4, nFT: 0, nFF: 4, delta: 0.4, deltaCiLow: 0.1, deltaCiHigh: 0.7, netGain: 4, sideEffectRate: 0, liftRate: 0.5, mcnemarP: 0.125 }],
    necessity: {
      runIds: [],
      rows: [
        { variant: 'frozen-early', kind: 'frozen', region: null, setting: 'REASONING', condition: 'question', accuracy: 0.3, ciLow: 0, ciHigh: 1, n: 10, gainOverIn: 0.1, shareOfRlGain: 0.25 },
        { variant: 'frozen-late', kind: 'frozen', region: null, setting: 'REASONING', condition: 'question', accuracy: 0.5, ciLow: 0, ciHigh: 1, n: 10, gainOverIn: 0.3, shareOfRlGain: 0.75 },
        { variant: 'rl_with_in_late', kind: 'revert_proxy', region: 'late', setting: 'REASONING', condition: 'question', accuracy: 0.6, ciLow: 0, ciHigh: 1, n: 10, gainOverIn: 0.4, shareOfRlGain: 1 },
      ],
    },
  };
}

describe('summarise', () => {
  test('names the third each phase changed most, the best splice with its share of the gain, and the frozen shares in order', () => {
    const lines = summarise(data({ a_splice: 0.4, b_splice: 0.5, c_splice: 0.3 }, 0.2, 0.6));
    const text = lines.join('\n');
    expect(text).toContain('Base→IN changed the middle third of the LLM most (relative norm 0.300)');
    expect(text).toContain('IN→RL changed the early third most (relative norm 0.900)');
    // (0.5 - 0.2) / (0.6 - 0.2)
    expect(text).toContain("Transfer: b_splice recovers the most of RL's reasoning gain (75.0% of it; accuracy 50.0%, IN 20.0%, RL 60.0%).");
    expect(text).toContain('RL vs IN +40.0 points (95% interval +10.0 points to +70.0 points) on 10 questions (RL right where IN was wrong: 4, the reverse: 0;');
    expect(text).toContain('RL beats IN beyond the 95% interval.');
    expect(text).toContain('up to layer 2 in IN (peak change rate 80.0%) and up to layer 3 in RL');
    expect(text).toContain('layers frozen: frozen-early 25.0%, frozen-late 75.0%; with one third reverted to IN (training-free proxy): late 100.0%.');
  });

  test('names every splice tied at the top, and says so when RL gains nothing', () => {
    const tied = summarise(data({ a_splice: 0.5, b_splice: 0.5, c_splice: 0.1 }, 0.2, 0.6)).join('\n');
    expect(tied).toContain("Transfer: a_splice, b_splice recover the most of RL's reasoning gain (75.0% of it;");
    const none = summarise(data({ a_splice: 0.5, b_splice: 0.1, c_splice: 0.1 }, 0.4, 0.4)).join('\n');
    expect(none).toContain('Transfer: RL does not gain over IN on reasoning (IN 40.0%, RL 40.0%), so no splice can recover a gain; the best splice (a_splice) scores 50.0%.');
  });
});

describe('probe sets registered without some examples', () => {
  const skipped = Array.from({ length: 12 }, (_, i) => ({ id: `recognition_${String(i).padStart(6, '0')}`, code: 'BAD_IMAGE', reason: `'target_image' = 'img/${i}.jpg' <truncated>` }));
  const withSets = (): ReportData => ({
    ...data({}, 0.2, 0.6),
    probeSets: [
      { id: 'pairs-partial', format: 'reference', fingerprint: 'f'.repeat(64), exampleCount: 388, skipped },
      { id: 'questions-whole', format: 'jsonl', fingerprint: 'e'.repeat(64), exampleCount: 40, skipped: [] },
    ],
  });

  test('the header counts what each set left out and names the first ones with their reasons, escaped', async () => {
    const html = await renderReport(withSets(), new Date('2026-12-05T00:00:00Z'), 'test');
    expect(html).toContain('Probe set <code>pairs-partial</code> was registered without 12 examples whose image could not be used; every number below is over the other 388.');
    for (const x of skipped.slice(0, 10)) expect(html).toContain(`<code>${x.id}</code>`);
    expect(html).not.toContain(`<code>${skipped[10]!.id}</code>`);
    expect(html).toContain('and 2 more');
    expect(html).toContain('&lt;truncated&gt;');
    expect(html).not.toContain('<truncated>');
    // the complete set gets a count of zero and no note
    expect(html).not.toContain('Probe set <code>questions-whole</code>');
    expect(html).toMatch(/<td>questions-whole<\/td><td class="num">40<\/td><td class="num">0<\/td>/);
  });
});
