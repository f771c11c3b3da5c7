/**
 * The report as one self-contained HTML document: inline CSS, inline SVG
 * charts, tables; nothing fetched from anywhere. Every string that comes
 * from data is escaped.
 */
import type { ConditionScore, LayerEffectRow, ReportData, Transition } from './collect.js';
import { layerChartSpec, renderSvg, type Band, type SeriesPoint } from './charts.js';
import { summarise } from './summary.js';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The number format of every table cell (tests compare against it). */
export function formatValue(x: number | null | undefined, digits = 3): string {
  if (x == null || Number.isNaN(x)) return '–';
  if (x !== 0 && Math.abs(x) < 1e-3) return x.toExponential(2);
  return x.toFixed(digits);
}

function table(head: string[], rows: (string | number | null)[][], className = ''): string {
  const cell = (v: string | number | null): string => {
    const text = typeof v === 'number' ? formatValue(v) : (v ?? '–');
    // numbers (and the dash for none) line up on the right, names on the left
    return /^[-–+]?[\d.]|^–$/.test(text) ? `<td class="num">${escapeHtml(text)}</td>` : `<td>${escapeHtml(text)}</td>`;
  };
  return `<table class="${className}"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map(cell).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const withCi = (x: number | null, lo: number | null, hi: number | null): string => (x == null ? '–' : `${formatValue(x)} [${formatValue(lo)}, ${formatValue(hi)}]`);

function regionBands(data: ReportData): Band[] {
  const bands: Band[] = [];
  const layers = data.characterization.layers;
  const vision = layers.filter((l) => l.index < 0);
  if (vision.length) bands.push({ from: Math.min(...vision.map((l) => l.index)) - 0.5, to: -0.5, label: 'vision' });
  if (layers.some((l) => l.index === 0)) bands.push({ from: -0.5, to: 0.5, label: 'proj.' });
  for (const region of ['EARLY', 'MIDDLE', 'LATE']) {
    const inRegion = layers.filter((l) => l.region === region);
    if (inRegion.length) bands.push({ from: Math.min(...inRegion.map((l) => l.index)) - 0.5, to: Math.max(...inRegion.map((l) => l.index)) + 0.5, label: region.toLowerCase() });
  }
  return bands;
}

/** The functional analyses intervene on LLM layers only: their charts shade the thirds. */
function llmRegionBands(data: ReportData): Band[] {
  return regionBands(data).filter((b) => b.from > 0);
}

function effectPoints(rows: readonly LayerEffectRow[], metric: string, series: (r: LayerEffectRow) => string, task = 'all'): SeriesPoint[] {
  return rows
    .filter((r) => r.metric === metric && r.index !== null && (task === '*' ? r.task !== 'all' : r.task === task))
    .map((r) => ({ index: r.index!, value: r.value, low: r.ciLow, high: r.ciHigh, series: series(r) }))
    .sort((a, b) => a.index - b.index);
}

async function chart(points: SeriesPoint[], title: string, yTitle: string, extra: { bands?: Band[]; yDomain?: [number, number] } = {}): Promise<string> {
  if (points.length === 0) return `<p class="empty">No rows for ${escapeHtml(title)}.</p>`;
  return `<figure>${await renderSvg(layerChartSpec(points, { title, yTitle, ...extra }))}</figure>`;
}

function effectTable(rows: readonly LayerEffectRow[], metrics: string[], label: string, className = ''): string {
  const all = rows.filter((r) => r.task === 'all');
  const indices = [...new Set(all.map((r) => r.index))].sort((a, b) => (a ?? -1e9) - (b ?? -1e9));
  return table(
    [label, ...metrics],
    indices.map((i) => [i === null ? 'baseline' : String(i), ...metrics.map((m) => {
      const r = all.find((x) => x.index === i && x.metric === m);
      return r ? withCi(r.value, r.ciLow, r.ciHigh) : '–';
    })]),
    className,
  );
}

function conditionCell(c: ConditionScore | undefined): string {
  return c ? withCi(c.accuracy, c.ciLow, c.ciHigh) : '–';
}

function transitionCells(t: Transition | null | undefined): (string | number | null)[] {
  if (!t) return ['–', '–', '–', '–', '–'];
  return [withCi(t.delta, t.deltaCiLow, t.deltaCiHigh), t.netGain, t.sideEffectRate, t.liftRate, t.mcnemarP];
}

/** The transferability rows as table cells (also used by tests to compare with the API). */
export function transferabilityCells(data: ReportData): string[][] {
  return data.transferability.rows.map((r) => {
    const all = r.conditions.filter((c) => c.task === 'all');
    const t = r.transition && r.transition.task === 'all' ? r.transition : null;
    return [r.variant, r.setting, conditionCell(all[0]), conditionCell(all[1]), ...transitionCells(t).map((v) => (typeof v === 'number' ? formatValue(v) : (v ?? '–'))), String(all[0]?.n ?? '–')];
  });
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: 12.5px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; } th { background: #f6f6f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.summary li { margin: .3rem 0; } .meta td { text-align: left; } figure { margin: .5rem 0 1.2rem; }
.empty { color: #888; } code { background: #f3f3f3; padding: 0 3px; }`;

const byModel = (name: string) => (): string => name;

/** The visual-token swap part of section 2, or why it was left out. */
async function swapHtml(data: ReportData): Promise<string> {
  if (!data.swap) {
    return `<p class="empty">Visual-token swap not run: <code>${escapeHtml(data.request.probes)}</code> holds no target/source image pairs (only the reference pair format does); pass <code>--pairs</code>.</p>`;
  }
  const { sft, rl } = data.swap;
  const rate = { bands: llmRegionBands(data), yDomain: [0, 1] as [number, number] };
  const both = (metric: string) => [...effectPoints(sft.layers, metric, byModel('IN')), ...effectPoints(rl.layers, metric, byModel('RL'))];
  // one chart per task (with a single task its curves are the 'all' ones)
  const tasks = [...new Set([...sft.layers, ...rl.layers].map((x) => x.task).filter((t) => t !== 'all'))].sort();
  const perTask: string[] = [];
  if (tasks.length > 1) {
    for (const task of tasks) {
      const points = (model: string, rows: readonly LayerEffectRow[]) => [
        ...effectPoints(rows, 'change_rate', () => `${model} change`, task),
        ...effectPoints(rows, 'transfer_rate', () => `${model} transfer`, task),
      ];
      perTask.push(await chart([...points('IN', sft.layers), ...points('RL', rl.layers)], `swap, task ${task}: change and transfer rate per layer`, 'rate', rate));
    }
  }
  return `<p>Visual-token swap on <code>${escapeHtml(data.request.pairs)}</code> (runs <code>${escapeHtml(sft.runId)}</code>, <code>${escapeHtml(rl.runId)}</code>): the target image's keys/values at layer L replaced by the source image's; change rate = answers that change, transfer rate = answers that become the source's. 95% bootstrap bands.</p>
${await chart(both('change_rate'), 'swap: change rate per layer (all tasks)', 'change rate', rate)}
${await chart(both('transfer_rate'), 'swap: transfer rate per layer (all tasks)', 'transfer rate', rate)}
${perTask.join('\n')}
<h3>Swap on IN</h3>${effectTable(sft.layers, ['change_rate', 'transfer_rate', 'accuracy'], 'layer', 'swap-in')}
<h3>Swap on RL</h3>${effectTable(rl.layers, ['change_rate', 'transfer_rate', 'accuracy'], 'layer', 'swap-rl')}`;
}

/** Renders the report document. `generatedAt` is the only part that changes between identical runs. */
export async function renderReport(data: ReportData, generatedAt: Date, engineVersion: string): Promise<string> {
  const r = data.request;
  const bands = regionBands(data);
  const llmBands = llmRegionBands(data);
  const rate = { bands: llmBands, yDomain: [0, 1] as [number, number] };
  const phases = (metric: 'froNorm' | 'relativeNorm' | 'effectiveRank'): SeriesPoint[] =>
    data.characterization.layers.flatMap((l) => [
      { index: l.index, value: l.sft[metric], series: 'SFT: Base→IN' },
      { index: l.index, value: l.rl[metric], series: 'RL: IN→RL' },
    ]);
  const regionRows = [...data.characterization.sections, ...data.characterization.regions].map((g) => [
    g.key, String(g.tensorCount), g.sft.froNormSum ?? g.sft.froNorm, g.rl.froNormSum ?? g.rl.froNorm, g.sft.relativeNorm, g.rl.relativeNorm, g.cosine,
  ]);
  const versus = data.rlVersusIn;
  const sections: string[] = [];

  sections.push(`<h2 id="summary">What the report says</h2><ul class="summary">${summarise(data).map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`);

  sections.push(`<h2 id="characterization">1. Update characterization</h2>
<p>Per-layer update of Base→IN (SFT) and IN→RL (RL) over the unified index; regions shaded. Run <code>${escapeHtml(data.characterization.runId)}</code>.</p>
${await chart(phases('relativeNorm'), 'relative update norm ‖ΔW‖/‖W‖ per layer', 'relative norm', { bands })}
${await chart(phases('froNorm'), 'Frobenius norm of the update per layer', '‖ΔW‖_F', { bands })}
${await chart(phases('effectiveRank'), 'effective rank of the update per layer', 'effective rank', { bands })}
${table(['section / region', 'tensors', 'SFT ‖Δ‖ sum', 'RL ‖Δ‖ sum', 'SFT relative', 'RL relative', 'cosine(ΔSFT, ΔRL)'], regionRows)}`);

  sections.push(`<h2 id="localization">2. Localization</h2>
${await swapHtml(data)}
<p>Zero ablation on the reasoning split of <code>${escapeHtml(r.probes)}</code> (runs <code>${escapeHtml(data.ablation.sft.runId)}</code>, <code>${escapeHtml(data.ablation.rl.runId)}</code>), 95% bootstrap bands.</p>
${await chart([...effectPoints(data.ablation.sft.layers, 'accuracy', byModel('IN')), ...effectPoints(data.ablation.rl.layers, 'accuracy', byModel('RL'))], 'zero ablation: reasoning accuracy with layer L removed', 'accuracy', rate)}
<h3>Zero ablation on IN</h3>${effectTable(data.ablation.sft.layers, ['accuracy', 'accuracy_drop'], 'layer', 'ablation-in')}
<h3>Zero ablation on RL</h3>${effectTable(data.ablation.rl.layers, ['accuracy', 'accuracy_drop'], 'layer', 'ablation-rl')}`);

  sections.push(`<h2 id="attention">3. Attention shift</h2>
<p>Attention mass from text to visual tokens on <code>${escapeHtml(r.pairs)}</code>, A = IN, B = RL (run <code>${escapeHtml(data.attentionShift.runId)}</code>), 95% bootstrap bands.</p>
${await chart(
  [
    ...effectPoints(data.attentionShift.layers, 'attention_mass_a', byModel('A: IN')),
    ...effectPoints(data.attentionShift.layers, 'attention_mass_b', byModel('B: RL')),
  ],
  'attention mass on visual tokens per layer',
  'mass',
  { bands: llmBands },
)}
${await chart(effectPoints(data.attentionShift.layers, 'attention_mass_diff', byModel('B − A')), 'attention shift B − A per layer', 'difference', { bands: llmBands })}`);

  const patchMetric = data.patching.layers.some((x) => x.metric === 'source_answer_rate') ? 'source_answer_rate' : 'logprob_recovered';
  sections.push(`<h2 id="patching">4. Activation patching</h2>
<p>RL's residual stream after layer L patched into IN on the reasoning split (run <code>${escapeHtml(data.patching.runId)}</code>).</p>
${await chart([...effectPoints(data.patching.layers, 'accuracy', byModel('accuracy')), ...effectPoints(data.patching.layers, patchMetric, byModel(patchMetric))], 'activation patching RL → IN per layer', patchMetric === 'source_answer_rate' ? 'rate' : 'accuracy / recovered', patchMetric === 'source_answer_rate' ? rate : { bands: llmBands })}
${effectTable(data.patching.layers, ['accuracy', patchMetric, 'accuracy_target', 'accuracy_source'], 'layer')}`);

  sections.push(`<h2 id="transferability">5. Transferability</h2>
<p>IN, RL and the six region splices in each setting of <code>${escapeHtml(r.probes)}</code>; condition A with the image, B without it (perception: black image; alignment: black image + description). Accuracies with 95% bootstrap intervals; delta = A − B with its paired interval; McNemar exact p.</p>
${table(['variant', 'setting', 'accuracy A', 'accuracy B', 'delta', 'net gain', 'side effect', 'lift', 'McNemar p', 'n'], transferabilityCells(data), 'transfer')}
<h3>RL against IN on the same reasoning questions</h3>
${table(['condition', 'task', 'n', 'RL✓ IN✓', 'RL✓ IN✗', 'RL✗ IN✓', 'RL✗ IN✗', 'delta RL − IN', 'McNemar p'], versus.map((t) => [t.conditionA, t.task, ...[t.n, t.nTT, t.nTF, t.nFT, t.nFF].map(String), withCi(t.delta, t.deltaCiLow, t.deltaCiHigh), t.mcnemarP]), 'versus')}`);

  if (data.necessity) {
    sections.push(`<h2 id="necessity">6. Necessity</h2>
<p>RL trained with one third frozen, next to IN, RL and the training-free proxies (RL with a region reverted to IN; IN with a region from RL). Share of RL's gain = (accuracy − IN) / (RL − IN), undefined when RL gains nothing.</p>
${table(['variant', 'kind', 'region', 'setting', 'condition', 'accuracy', 'gain over IN', 'share of RL gain', 'n'], data.necessity.rows.map((x) => [x.variant, x.kind, x.region, x.setting, x.condition, withCi(x.accuracy, x.ciLow, x.ciHigh), x.gainOverIn, x.shareOfRlGain, String(x.n)]), 'necessity')}`);
  }

  const meta = table(
    ['role', 'id', 'fingerprint'],
    [
      ['Base', r.base], ['IN (SFT)', r.sft], ['RL', r.rl], ...r.frozen.map((f) => ['RL, layers frozen', f]),
    ].map(([role, id]) => [role!, id!, data.checkpoints.find((c) => c.id === id)?.fingerprint.slice(0, 16) ?? '–']),
    'meta',
  );
  const probeMeta = table(['probe set', 'examples', 'left out', 'fingerprint'], data.probeSets.map((p) => [p.id, String(p.exampleCount), String(p.skipped.length), p.fingerprint.slice(0, 16)]), 'meta') + leftOutNote(data.probeSets);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>frankenscope report: ${escapeHtml(r.rl)} vs ${escapeHtml(r.sft)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body><h1>frankenscope report</h1>
<p>Generated ${escapeHtml(generatedAt.toISOString())} by frankenscope engine ${escapeHtml(engineVersion)}; generation budget ${r.maxNewTokens} tokens${r.maxExamples ? `, at most ${r.maxExamples} examples per task` : ''}. Every number below was read from the warehouse through the GraphQL API.</p>
${meta}${probeMeta}
${sections.join('\n')}
</body></html>
`;
}

/** How many examples of each listed shown by id before the rest are only counted. */
const LEFT_OUT_SHOWN = 10;

/**
 * Names the examples a probe set was registered without (skipInvalidExamples),
 * so a reader knows every number below is over the rest.
 */
function leftOutNote(sets: ReportData['probeSets']): string {
  const notes = sets.filter((p) => p.skipped.length > 0).map((p) => {
    const shown = p.skipped.slice(0, LEFT_OUT_SHOWN).map((x) => `<li><code>${escapeHtml(x.id)}</code> (${escapeHtml(x.code)}): ${escapeHtml(x.reason)}</li>`);
    const more = p.skipped.length > LEFT_OUT_SHOWN ? `<li>and ${p.skipped.length - LEFT_OUT_SHOWN} more</li>` : '';
    return `<p class="left-out">Probe set <code>${escapeHtml(p.id)}</code> was registered without ${p.skipped.length} example${p.skipped.length === 1 ? '' : 's'} whose image could not be used; every number below is over the other ${p.exampleCount}.</p><ul class="left-out">${shown.join('')}${more}</ul>`;
  });
  return notes.join('\n');
}
