/**
 * Functional localization (METHOD.md §1): visual-token swap (change and
 * transfer rate per layer per task), zero ablation (accuracy per layer),
 * attention shift (A, B and B − A per layer) and activation patching, each
 * with its 95% bootstrap bands and the unintervened baselines.
 */
import { request } from '../api.js';
import { chartCard, dataTable, type Column } from '../charts.js';
import { h, selectField } from '../dom.js';
import { formatNumber } from '../format.js';
import { ActivationPatchingDocument, AttentionShiftDocument, LocalizationDocument, type AnalysisOptions, type EffectFragment, type RunFieldsFragment } from '../generated/graphql.js';
import { llmShades } from '../regions.js';
import { RunStatusPanel, untilDone } from '../runs.js';
import { bandSpec } from '../specs.js';
import { analysisOptions, checkpoint, modelChoices, modelLabel, optionFields, runButton, section, type View, type ViewContext } from './common.js';

export const ANALYSES = {
  swap: { label: 'Visual-token swap (METHOD 1a)', models: ['model'] },
  ablation: { label: 'Zero ablation (METHOD 1b)', models: ['model'] },
  attention: { label: 'Attention shift A → B (METHOD 1c)', models: ['a', 'b'] },
  patching: { label: 'Activation patching source → target (METHOD 1c)', models: ['target', 'source'] },
} as const;
export type AnalysisName = keyof typeof ANALYSES;

const MODEL_FIELD_LABELS: Record<string, string> = { model: 'model', a: 'model A', b: 'model B', target: 'target (patched)', source: 'source (patched in)' };

const METRIC_TITLES: Record<string, string> = {
  change_rate: 'Change rate: answers that change when the visual tokens’ keys and values come from the source image from layer L on',
  transfer_rate: 'Transfer rate: swapped answers equal to the source image’s answer',
  accuracy: 'Accuracy with the intervention at layer L',
  accuracy_drop: 'Accuracy drop from the unablated model',
  attention_mass_a: 'Attention mass from text to visual tokens, model A',
  attention_mass_b: 'Attention mass from text to visual tokens, model B',
  attention_mass_diff: 'Attention shift B − A',
  source_answer_rate: 'Source answer rate: patched answers equal to the source model’s answer',
  logprob_recovered: 'Log-probability recovered',
};
/** Main metrics first: what the method reads off each analysis, then the accuracies beside it. */
const METRIC_ORDER = ['change_rate', 'transfer_rate', 'accuracy_drop', 'attention_mass_a', 'attention_mass_b', 'attention_mass_diff', 'source_answer_rate', 'logprob_recovered', 'accuracy'];
const UNIT_INTERVAL = new Set(['change_rate', 'transfer_rate', 'accuracy', 'source_answer_rate', 'attention_mass_a', 'attention_mass_b']);

export const EFFECT_COLUMNS: Column[] = [
  { key: 'index', label: 'index' },
  { key: 'task', label: 'task' },
  { key: 'metric', label: 'metric' },
  { key: 'value', label: 'value' },
  { key: 'ciLow', label: '95% low' },
  { key: 'ciHigh', label: '95% high' },
  { key: 'n', label: 'n' },
];

function analysisOf(text: string | undefined): AnalysisName {
  return text && text in ANALYSES ? (text as AnalysisName) : 'swap';
}

/** The models an analysis runs on, from the URL or the trio (swap and ablation on IN; A/target = IN, B/source = RL). */
function modelsOf(ctx: ViewContext, analysis: AnalysisName): Record<string, string> {
  const defaults: Record<string, string> = { model: ctx.trio.sft, a: ctx.trio.sft, b: ctx.trio.rl, target: ctx.trio.sft, source: ctx.trio.rl };
  return Object.fromEntries(ANALYSES[analysis].models.map((key) => [key, ctx.state[key] ?? defaults[key]!]));
}

interface Answer {
  status: string;
  progress: number;
  run: RunFieldsFragment;
  layers: EffectFragment[];
}

function load(analysis: AnalysisName, models: Record<string, string>, probeSet: string, options: AnalysisOptions, signal: AbortSignal): Promise<Answer> {
  switch (analysis) {
    case 'swap':
    case 'ablation':
      return request(LocalizationDocument, { model: models.model!, probeSet, method: analysis === 'swap' ? 'VISUAL_TOKEN_SWAP' : 'ZERO_ABLATION', options }, signal).then((a) => a.localization);
    case 'attention':
      return request(AttentionShiftDocument, { a: models.a!, b: models.b!, probeSet, options }, signal).then((a) => a.attentionShift);
    case 'patching':
      return request(ActivationPatchingDocument, { target: models.target!, source: models.source!, probeSet, options }, signal).then((a) => a.activationPatching);
  }
}

export const localizationView: View = (root, ctx) => {
  const { state } = ctx;
  const analysis = analysisOf(state.analysis);
  const models = modelsOf(ctx, analysis);
  const status = new RunStatusPanel(ANALYSES[analysis].label);
  const results = h('div', { class: 'results' });
  const options = optionFields(ctx, ['split', 'tasks', 'maxExamples', 'maxNewTokens', 'scoring', 'layers', 'bootstrap']);
  root.append(
    section(
      'Functional localization',
      h('p', { class: 'lead' }, 'Where abilities live: intervene at each LLM layer and measure what changes, with seeded 95% bootstrap intervals (bands). Layers are shaded by thirds.'),
      h(
        'div',
        { class: 'form' },
        selectField('analysis', 'analysis', Object.entries(ANALYSES).map(([value, a]) => ({ value, label: a.label })), analysis, (v) =>
          ctx.set({ analysis: v, run: null, model: null, a: null, b: null, target: null, source: null }, { render: true }),
        ),
        ...ANALYSES[analysis].models.map((key) => selectField(MODEL_FIELD_LABELS[key]!, key, modelChoices(ctx), models[key]!, (v) => ctx.set({ [key]: v }))),
      ),
      h('div', { class: 'form' }, ...options, runButton(ctx)),
      status.element,
    ),
    results,
  );
  if (!ctx.probeSet) {
    status.error('Pick a probe set above.');
    return;
  }
  if (state.run !== '1') {
    status.idle('Press Run: the analysis is read from the warehouse, or computed there if it is missing (a small “max examples” keeps it quick).');
    return;
  }
  let variables: AnalysisOptions;
  try {
    variables = analysisOptions(state);
  } catch (err) {
    status.error((err as Error).message);
    return;
  }
  const probeSet = ctx.probeSet.id;
  void untilDone({
    load: () => load(analysis, models, probeSet, variables, ctx.signal),
    progressOf: (a) => ({ status: a.status, progress: a.progress, runs: [a.run] }),
    panel: status,
    signal: ctx.signal,
  }).then((answer) => {
    if (answer) renderEffects(results, ctx, analysis, models, answer.layers);
  }, () => undefined);
};

function renderEffects(root: HTMLElement, ctx: ViewContext, analysis: AnalysisName, models: Record<string, string>, effects: readonly EffectFragment[]): void {
  const firstModel = checkpoint(ctx, Object.values(models)[0]!);
  const tasks = [...new Set(effects.map((e) => e.task))].sort((x, y) => (x === 'all' ? -1 : y === 'all' ? 1 : x.localeCompare(y)));
  const shown = ctx.state.show && tasks.includes(ctx.state.show) ? ctx.state.show : '';
  const picked = (e: EffectFragment) => shown === '' || e.task === shown;
  const layered = effects.filter((e) => e.index !== null && picked(e));
  const baselines = effects.filter((e) => e.index === null && picked(e));
  const numLayers = firstModel?.numLayers ?? Math.max(0, ...layered.map((e) => e.index!));
  const shades = llmShades(numLayers);
  const who = Object.entries(models)
    .map(([key, id]) => `${MODEL_FIELD_LABELS[key]}: ${modelLabel(ctx, id)}`)
    .join(' · ');
  const rank = (metric: string) => (METRIC_ORDER.includes(metric) ? METRIC_ORDER.indexOf(metric) : METRIC_ORDER.length);
  const metrics = [...new Set(layered.map((e) => e.metric))].sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
  const grid = h('div', { class: 'grid' });
  for (const metric of metrics) {
    const rows = layered.filter((e) => e.metric === metric).sort((x, y) => x.index! - y.index! || x.task.localeCompare(y.task));
    // the unintervened numbers a chart's metric is read against: accuracy for swap and ablation, target and source accuracy for patching
    const lines = metric === 'accuracy' ? baselines.filter((b) => b.metric === 'accuracy' || b.metric.startsWith('accuracy_')) : baselines.filter((b) => b.metric === metric);
    grid.append(
      chartCard({
        id: `localization-${analysis}-${metric}`,
        title: METRIC_TITLES[metric] ?? metric,
        spec: bandSpec({
          points: rows.map((r) => ({ index: r.index!, task: r.task, value: r.value, ciLow: r.ciLow, ciHigh: r.ciHigh })),
          baselines: lines.map((b) => ({ task: b.task, value: b.value, label: b.metric === 'accuracy' ? 'no intervention' : b.metric })),
          shades,
          yTitle: metric,
          yDomain: UNIT_INTERVAL.has(metric) ? [0, 1] : undefined,
        }),
        rows: rows.map((r) => ({ ...r })),
        columns: EFFECT_COLUMNS,
        note: lines.length ? 'Dashed lines: the unintervened baselines.' : undefined,
      }),
    );
  }
  if (analysis === 'attention') {
    // A and B on one axis: the shift is read off the gap between the two curves
    const pooled = layered
      .filter((e) => e.task === 'all' && (e.metric === 'attention_mass_a' || e.metric === 'attention_mass_b'))
      .map((e) => ({ model: e.metric === 'attention_mass_a' ? `A: ${models.a}` : `B: ${models.b}`, ...e }))
      .sort((x, y) => x.index! - y.index! || x.model.localeCompare(y.model));
    if (pooled.length) {
      grid.prepend(
        chartCard({
          id: 'localization-attention-a_vs_b',
          title: 'Attention mass from text to visual tokens, A and B (all tasks pooled)',
          spec: bandSpec({ points: pooled.map((r) => ({ index: r.index!, task: r.model, value: r.value, ciLow: r.ciLow, ciHigh: r.ciHigh })), shades, yTitle: 'attention mass', seriesTitle: 'model' }),
          rows: pooled,
          columns: [{ key: 'model', label: 'model' }, ...EFFECT_COLUMNS],
        }),
      );
    }
  }
  const baselineRows = baselines.map((b) => ({ ...b })).sort((x, y) => x.metric.localeCompare(y.metric) || x.task.localeCompare(y.task));
  const taskPicker = selectField('tasks shown', 'show', [{ value: '', label: 'every task' }, ...tasks.map((t) => ({ value: t, label: t === 'all' ? 'all (pooled)' : t }))], shown, (v) => ctx.set({ show: v }, { render: true }));
  root.append(
    section(
      `${ANALYSES[analysis].label} on ${ctx.probeSet!.id} (${who})`,
      h('div', { class: 'form' }, taskPicker),
      baselineRows.length
        ? h(
            'details',
            { class: 'baselines table-wrap', 'data-baselines': '', open: baselineRows.length <= 6 },
            h('summary', {}, `Baselines without intervention (${baselineRows.length} rows)`),
            dataTable(`localization-${analysis}-baselines`, EFFECT_COLUMNS.filter((c) => c.key !== 'index'), baselineRows),
          )
        : null,
      metrics.length ? grid : h('p', { class: 'note' }, `No per-layer rows (${formatNumber(effects.length)} rows in all).`),
    ),
  );
}
