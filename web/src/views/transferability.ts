/**
 * Transferability (METHOD.md §3): the reference's table (IN, RL and the six
 * region splices in every setting the probe set supports, with transition
 * statistics and McNemar p), and a builder that scores a custom merge recipe
 * next to the two models it is made of.
 */
import { request } from '../api.js';
import { chartCard, type Column } from '../charts.js';
import { clear, h, inputField, selectField } from '../dom.js';
import { formatWithInterval } from '../format.js';
import { TransferabilityDocument, VariantScoresDocument, type AnalysisOptions, type ConditionFragment, type Setting, type TransferabilityQuery, type TransitionFragment, type VariantRecipeInput } from '../generated/graphql.js';
import { defaultCuts } from '../regions.js';
import { builderRecipe } from '../recipe.js';
import { RunStatusPanel, untilDone } from '../runs.js';
import { barsSpec } from '../specs.js';
import { parseIntList } from '../state.js';
import { analysisOptions, checkpoint, layerCuts, modelChoices, modelLabel, optionFields, section, type View, type ViewContext } from './common.js';

export const SPLICE_LABELS: Record<string, string> = {
  in_early__rl_middle_late: 'IN early + RL middle, late',
  rl_early__in_middle_late: 'RL early + IN middle, late',
  in_early_middle__rl_late: 'IN early, middle + RL late',
  rl_early_middle__in_late: 'RL early, middle + IN late',
  in_early__rl_middle__in_late: 'IN early + RL middle + IN late',
  rl_early__in_middle__rl_late: 'RL early + IN middle + RL late',
};
const SETTINGS: readonly Setting[] = ['PERCEPTION', 'ALIGNMENT', 'REASONING'];

type TransferRow = TransferabilityQuery['transferability']['rows'][number];

function variantLabel(ctx: ViewContext, variant: string): string {
  if (variant === ctx.trio.sft) return `IN (${variant})`;
  if (variant === ctx.trio.rl) return `RL (${variant})`;
  return SPLICE_LABELS[variant] ?? variant;
}

const ci = (key: string) => (_: unknown, row: Readonly<Record<string, unknown>>) => formatWithInterval(row[key] as number | null, row[`${key}CiLow`] as number | null, row[`${key}CiHigh`] as number | null);

export const TABLE_COLUMNS: Column[] = [
  { key: 'label', label: 'variant' },
  { key: 'setting', label: 'setting' },
  { key: 'conditionA', label: 'condition A' },
  { key: 'accA', label: 'acc A [95%]', format: ci('accA') },
  { key: 'conditionB', label: 'condition B' },
  { key: 'accB', label: 'acc B [95%]', format: ci('accB') },
  { key: 'delta', label: 'Δ = A − B [95%]', format: ci('delta') },
  { key: 'nTT', label: 'n_TT' },
  { key: 'nTF', label: 'n_TF' },
  { key: 'nFT', label: 'n_FT' },
  { key: 'nFF', label: 'n_FF' },
  { key: 'netGain', label: 'net gain' },
  { key: 'sideEffectRate', label: 'side effect' },
  { key: 'liftRate', label: 'lift' },
  { key: 'mcnemarP', label: 'McNemar p' },
  { key: 'variant', label: 'variant id' },
];

/** One flat table row per variant and setting: the two conditions side by side, then the transition statistics. */
function tableRow(label: string, variant: string, setting: string, conditions: readonly ConditionFragment[], transition: TransitionFragment | null | undefined): Record<string, unknown> {
  const all = conditions.filter((c) => c.task === 'all');
  const a = transition ? all.find((c) => c.condition === transition.conditionA) : all[0];
  const b = transition ? all.find((c) => c.condition === transition.conditionB) : undefined;
  return {
    label,
    variant,
    setting,
    conditionA: a?.condition ?? null,
    accA: a?.accuracy ?? null,
    accACiLow: a?.ciLow ?? null,
    accACiHigh: a?.ciHigh ?? null,
    conditionB: b?.condition ?? null,
    accB: b?.accuracy ?? null,
    accBCiLow: b?.ciLow ?? null,
    accBCiHigh: b?.ciHigh ?? null,
    delta: transition?.delta ?? null,
    deltaCiLow: transition?.deltaCiLow ?? null,
    deltaCiHigh: transition?.deltaCiHigh ?? null,
    nTT: transition?.nTT ?? null,
    nTF: transition?.nTF ?? null,
    nFT: transition?.nFT ?? null,
    nFF: transition?.nFF ?? null,
    netGain: transition?.netGain ?? null,
    sideEffectRate: transition?.sideEffectRate ?? null,
    liftRate: transition?.liftRate ?? null,
    mcnemarP: transition?.mcnemarP ?? null,
  };
}

const BAR_COLUMNS: Column[] = [
  { key: 'panel', label: 'setting' },
  { key: 'label', label: 'variant' },
  { key: 'group', label: 'condition' },
  { key: 'value', label: 'accuracy' },
  { key: 'ciLow', label: '95% low' },
  { key: 'ciHigh', label: '95% high' },
];

export const transferabilityView: View = (root, ctx) => {
  const { state } = ctx;
  const status = new RunStatusPanel('Transferability table');
  const results = h('div', { class: 'results' });
  root.append(
    section(
      'Transferability: Frankenstein splices of IN and RL',
      h('p', { class: 'lead' }, `${modelLabel(ctx, ctx.trio.sft)} and ${modelLabel(ctx, ctx.trio.rl)}, and the six region splices (every other tensor from IN), scored in each setting the probe set supports.`),
      h('div', { class: 'form' }, ...optionFields(ctx, ['cuts', 'maxExamples', 'maxNewTokens', 'scoring', 'bootstrap']), h('button', { type: 'button', class: 'primary', 'data-action': 'run', onclick: () => ctx.set({ run: '1' }, { mode: 'push', render: true }) }, 'Run')),
      status.element,
    ),
    results,
  );
  const builder = h('div', { class: 'results' });
  root.append(builder);
  renderBuilder(builder, ctx);
  if (!ctx.probeSet) return status.error('Pick a probe set above.');
  if (state.run !== '1') return status.idle('Press Run: 8 variants × settings, each read from the warehouse or scored there if missing.');
  let options: AnalysisOptions;
  let cuts: [number, number] | null;
  try {
    options = analysisOptions(state);
    cuts = layerCuts(state);
  } catch (err) {
    return status.error((err as Error).message);
  }
  const probeSet = ctx.probeSet.id;
  void untilDone({
    load: () => request(TransferabilityDocument, { sft: ctx.trio.sft, rl: ctx.trio.rl, probeSet, layerCuts: cuts, options }, ctx.signal),
    progressOf: (a) => ({ status: a.transferability.status, progress: a.transferability.progress, runs: a.transferability.runs }),
    panel: status,
    signal: ctx.signal,
  }).then((answer) => {
    if (answer) renderTable(results, ctx, answer.transferability.rows);
  }, () => undefined);
};

function renderTable(root: HTMLElement, ctx: ViewContext, rows: readonly TransferRow[]): void {
  const table = rows.map((r) => tableRow(variantLabel(ctx, r.variant), r.variant, r.setting, r.conditions, r.transition));
  const labels = [...new Set(rows.map((r) => variantLabel(ctx, r.variant)))];
  const bars = rows.flatMap((r) => r.conditions.filter((c) => c.task === 'all').map((c) => ({ panel: r.setting, label: variantLabel(ctx, r.variant), group: c.condition, value: c.accuracy, ciLow: c.ciLow, ciHigh: c.ciHigh })));
  root.append(
    section(
      `Transferability on ${ctx.probeSet!.id}`,
      chartCard({ id: 'transferability-table', title: 'The reference’s table: accuracy per condition and transition statistics A → B (task all)', spec: null, rows: table, columns: TABLE_COLUMNS }),
      chartCard({ id: 'transferability-accuracy', title: 'Accuracy per condition with 95% intervals', spec: barsSpec({ points: bars, labels, yTitle: 'accuracy', yDomain: [0, 1], groupTitle: 'condition' }), rows: bars, columns: BAR_COLUMNS }),
    ),
  );
}

/**
 * The builder renders on its own: scoring a variant redraws this section
 * alone (the table above keeps its state), and aborts the section's previous
 * polling.
 */
function renderBuilder(root: HTMLElement, ctx: ViewContext, previous?: AbortController): void {
  previous?.abort();
  const local = new AbortController();
  ctx.signal.addEventListener('abort', () => local.abort(), { once: true });
  const signal = local.signal;
  clear(root);
  const state = ctx.state;
  const base = state.vbase ?? ctx.trio.sft;
  const donor = state.vdonor ?? ctx.trio.rl;
  const numLayers = checkpoint(ctx, base)?.numLayers ?? 0;
  const [cutA] = defaultCuts(numLayers);
  const method = state.vmethod ?? 'splice';
  const setting = (SETTINGS as readonly string[]).includes(state.vsetting ?? '') ? (state.vsetting as Setting) : 'REASONING';
  const status = new RunStatusPanel('Variant');
  const preview = h('pre', { class: 'recipe', 'data-recipe': '' });
  const out = h('div');
  const read = () => {
    const range = parseIntList(`${ctx.state.vfrom ?? cutA},${ctx.state.vto ?? numLayers}`, 'layers from, to')!;
    const alpha = Number(ctx.state.valpha ?? '0.5');
    if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`'alpha' must be between 0 and 1, got '${ctx.state.valpha}'`);
    return builderRecipe({ base: ctx.state.vbase ?? base, donor: ctx.state.vdonor ?? donor, method: ctx.state.vmethod ?? method, from: range[0]!, to: range[1]!, component: ctx.state.vcomp ?? 'layer', alpha, label: ctx.state.vlabel });
  };
  const refresh = () => {
    try {
      preview.textContent = JSON.stringify(read(), null, 2);
    } catch (err) {
      preview.textContent = (err as Error).message;
    }
  };
  const edit = (key: string) => (value: string) => {
    ctx.set({ [key]: value });
    refresh();
  };
  root.append(
    section(
      'Variant builder: score a custom recipe',
      h('p', { class: 'lead' }, `Take decoder layers [from, to) of the donor into the base (0-based; ${numLayers} layers). The variant is composed lazily in the model worker and scored next to both models in one setting.`),
      h(
        'div',
        { class: 'form' },
        selectField('base', 'vbase', modelChoices(ctx), base, edit('vbase')),
        selectField('donor', 'vdonor', modelChoices(ctx), donor, edit('vdonor')),
        selectField('method', 'vmethod', [{ value: 'splice', label: 'splice (take the donor’s tensors)' }, { value: 'interpolate', label: 'interpolate (1 − α)·base + α·donor' }, { value: 'slerp', label: 'slerp with t = α' }], method, edit('vmethod')),
        inputField('from layer', 'vfrom', state.vfrom ?? String(cutA), edit('vfrom'), { type: 'number', min: 0, max: numLayers }),
        inputField('to layer (exclusive)', 'vto', state.vto ?? String(numLayers), edit('vto'), { type: 'number', min: 0, max: numLayers }),
        selectField('component', 'vcomp', ['layer', 'attention', 'mlp'].map((c) => ({ value: c, label: c })), state.vcomp ?? 'layer', edit('vcomp')),
        inputField('α', 'valpha', state.valpha ?? '0.5', edit('valpha'), { type: 'number', min: 0, max: 1, step: 'any' }),
        selectField('setting', 'vsetting', SETTINGS.map((s) => ({ value: s, label: s.toLowerCase() })), setting, edit('vsetting')),
        inputField('label', 'vlabel', state.vlabel ?? '', edit('vlabel'), { placeholder: 'optional' }),
        h(
          'button',
          {
            type: 'button',
            class: 'primary',
            'data-action': 'score-variant',
            onclick: () => {
              ctx.set({ vrun: '1' }, { mode: 'push' });
              renderBuilder(root, ctx, local);
            },
          },
          'Score variant',
        ),
      ),
      h('details', { class: 'table-wrap' }, h('summary', {}, 'Recipe (docs/merging.md)'), preview),
      status.element,
      out,
    ),
  );
  refresh();
  if (state.vrun !== '1') return status.idle('Press Score variant (the options of the table above apply).');
  if (!ctx.probeSet) return status.error('Pick a probe set above.');
  let recipe: Record<string, unknown>;
  let options: AnalysisOptions;
  try {
    recipe = read();
    options = analysisOptions(state);
  } catch (err) {
    return status.error((err as Error).message);
  }
  const probeSet = ctx.probeSet.id;
  const [donorId] = recipe.donors as string[];
  const entries: { label: string; recipe: VariantRecipeInput }[] = [
    { label: `base: ${recipe.base as string}`, recipe: { model: recipe.base as string } },
    { label: `donor: ${donorId}`, recipe: { model: donorId } },
    { label: (recipe.label as string) || 'custom', recipe: { recipe } },
  ];
  void untilDone({
    load: () => Promise.all(entries.map((e) => request(VariantScoresDocument, { recipe: e.recipe, probeSet, setting, options }, signal))),
    progressOf: (answers) => ({ status: answers.every((a) => a.variant.scores.status === 'DONE') ? 'DONE' : 'RUNNING', progress: 0, runs: answers.map((a) => a.variant.scores.run) }),
    panel: status,
    signal,
  }).then((answers) => {
    if (!answers) return;
    const bars = answers.flatMap((a, i) => a.variant.scores.conditions.filter((c) => c.task === 'all').map((c) => ({ panel: setting, label: entries[i]!.label, group: c.condition, value: c.accuracy, ciLow: c.ciLow, ciHigh: c.ciHigh })));
    const custom = answers[2]!.variant;
    const conditionRows = answers.flatMap((a, i) => a.variant.scores.conditions.map((c) => ({ variant: entries[i]!.label, fingerprint: a.variant.fingerprint, ...c })));
    out.append(
      h('p', { class: 'note', 'data-fingerprint': custom.fingerprint }, `Variant ${custom.label} · fingerprint ${custom.fingerprint.slice(0, 16)}… · reads ${custom.models.join(', ')}`),
      chartCard({ id: 'variant-accuracy', title: `Accuracy in ${setting.toLowerCase()}: base, donor and the custom variant`, spec: barsSpec({ points: bars, labels: entries.map((e) => e.label), yTitle: 'accuracy', yDomain: [0, 1], groupTitle: 'condition' }), rows: conditionRows, columns: [{ key: 'variant', label: 'variant' }, { key: 'task', label: 'task' }, { key: 'condition', label: 'condition' }, { key: 'accuracy', label: 'accuracy' }, { key: 'ciLow', label: '95% low' }, { key: 'ciHigh', label: '95% high' }, { key: 'n', label: 'n' }, { key: 'fingerprint', label: 'fingerprint', format: (v) => `${String(v).slice(0, 12)}…` }] }),
      chartCard({
        id: 'variant-transitions',
        title: `Transitions of the custom variant between the conditions of ${setting.toLowerCase()}`,
        spec: null,
        rows: custom.scores.transitions.map((t) => ({ ...t })),
        columns: ['task', 'conditionA', 'conditionB', 'n', 'nTT', 'nTF', 'nFT', 'nFF', 'delta', 'netGain', 'sideEffectRate', 'liftRate', 'mcnemarP'].map((key) => ({ key, label: key })),
        note: custom.scores.transitions.length ? undefined : 'No transitions: the reasoning setting has one condition.',
      }),
    );
  }, () => undefined);
}
