/**
 * Update characterization: per-layer curves of every metric for the SFT
 * update (IN − Base) and the RL update (RL − IN) over the unified index,
 * regions shaded, and the singular-value spectrum of a chosen tensor.
 */
import { request } from '../api.js';
import { chartCard, type Column } from '../charts.js';
import { clear, h, inputField, selectField } from '../dom.js';
import { formatNumber } from '../format.js';
import {
  CharacterizationLayersDocument,
  CharacterizationTensorNamesDocument,
  TensorSpectraDocument,
  type CharacterizationLayersQuery,
  type CharacterizationOptions,
  type CharacterizationTensorNamesQuery,
  type Section,
} from '../generated/graphql.js';
import { unifiedShades } from '../regions.js';
import { RunStatusPanel, untilDone } from '../runs.js';
import { layerCurveSpec, spectrumSpec, type YScale } from '../specs.js';
import { parsePositiveInt } from '../state.js';
import { errorNote, layerCuts, runButton, section, type View, type ViewContext } from './common.js';

type Layer = CharacterizationLayersQuery['characterization']['layers'][number];
type StatKey = keyof Omit<Layer['sft'], '__typename'>;
type TensorName = CharacterizationTensorNamesQuery['characterization']['tensors'][number];

/** The per-layer metrics drawn, in the order of METHOD.md §2. */
export const METRICS: readonly { key: StatKey; title: string }[] = [
  { key: 'froNorm', title: 'Frobenius norm ‖Δ‖F (mean over tensors)' },
  { key: 'froNormSum', title: 'Frobenius norm, summed over tensors' },
  { key: 'relativeNorm', title: 'Relative norm ‖Δ‖F / ‖W_IN‖F' },
  { key: 'spectralNorm', title: 'Spectral norm s₁' },
  { key: 'nuclearNorm', title: 'Nuclear norm Σ sᵢ' },
  { key: 'stableRank', title: 'Stable rank ‖Δ‖F² / s₁²' },
  { key: 'effectiveRank', title: 'Effective rank exp(H)' },
  { key: 'conditionNumber', title: 'Condition number s₁ / s_min' },
  { key: 'logVolume', title: 'Log volume Σ ln sᵢ (top k)' },
];

const COLORS = { SFT: '#1f6fb4', RL: '#d1452b', cosine: '#6a3d9a', 'subspace overlap': '#2a9d6f' };
const LAYER_COLUMNS: Column[] = [
  { key: 'index', label: 'index' },
  { key: 'section', label: 'section' },
  { key: 'region', label: 'region' },
  { key: 'series', label: 'update' },
  { key: 'value', label: 'value' },
];

function characterizationOptions(ctx: ViewContext): CharacterizationOptions {
  const options: CharacterizationOptions = {};
  const topK = parsePositiveInt(ctx.state.topK, 'top k');
  if (topK !== null) options.topK = topK;
  const cuts = layerCuts(ctx.state);
  if (cuts) options.layerCuts = cuts;
  if (ctx.state.filter) options.weightFilter = ctx.state.filter;
  return options;
}

function scaleOf(text: string | undefined, fallback: YScale): YScale {
  return text === 'linear' || text === 'symlog' || text === 'log' ? text : fallback;
}

export const characterizationView: View = (root, ctx) => {
  const { state, trio } = ctx;
  const status = new RunStatusPanel('Characterization');
  const results = h('div', { class: 'results' });
  const scale = scaleOf(state.scale, 'linear');
  root.append(
    section(
      'Update characterization',
      h('p', { class: 'lead' }, `Per-layer weight updates of ${trio.sft} − ${trio.base} (SFT) and ${trio.rl} − ${trio.sft} (RL) on the unified index: vision blocks negative, projector 0, LLM layers positive.`),
      h(
        'div',
        { class: 'form' },
        inputField('top k', 'topK', state.topK ?? '', (v) => ctx.set({ topK: v }), { type: 'number', min: 1, placeholder: '50', title: 'singular values kept per tensor' }),
        inputField('region cuts', 'cuts', state.cuts ?? '', (v) => ctx.set({ cuts: v }), { placeholder: 'N/3,2N/3', title: "0-based LLM layer cuts 'a,b'" }),
        inputField('weight filter', 'filter', state.filter ?? '', (v) => ctx.set({ filter: v }), { placeholder: 'e.g. down_proj' }),
        selectField(
          'y scale',
          'scale',
          (['linear', 'symlog', 'log'] as const).map((s) => ({ value: s, label: s })),
          scale,
          (v) => ctx.set({ scale: v === 'linear' ? null : v }, { render: state.run === '1' }),
        ),
        runButton(ctx),
      ),
      status.element,
    ),
    results,
  );
  if (state.run !== '1') {
    status.idle('Press Run: the characterization is read from the warehouse, or computed there if it is missing.');
    return;
  }
  let options: CharacterizationOptions;
  try {
    options = characterizationOptions(ctx);
  } catch (err) {
    status.error((err as Error).message);
    return;
  }
  const variables = { ...trio, options };
  void untilDone({
    load: () => request(CharacterizationLayersDocument, variables, ctx.signal),
    progressOf: (a) => ({ status: a.characterization.status, progress: a.characterization.progress, runs: [a.characterization.run] }),
    panel: status,
    signal: ctx.signal,
  }).then((answer) => {
    if (!answer) return;
    renderLayers(results, answer.characterization.layers, scale);
    const spectrum = h('div', { class: 'spectrum' });
    results.append(section('Singular-value spectrum of one tensor', spectrum));
    void renderSpectrum(spectrum, ctx, variables).catch((err: unknown) => {
      if (!ctx.signal.aborted) spectrum.append(errorNote(`the tensor list failed: ${(err as Error).message}`));
    });
  }, () => undefined);
};

function renderLayers(root: HTMLElement, layers: readonly Layer[], scale: YScale): void {
  const shades = unifiedShades(layers);
  const grid = h('div', { class: 'grid' });
  for (const metric of METRICS) {
    const rows = layers.flatMap((l) =>
      (['SFT', 'RL'] as const).map((series) => ({ index: l.index, section: l.section, region: l.region, series, value: (series === 'SFT' ? l.sft : l.rl)[metric.key] ?? null })),
    );
    grid.append(
      chartCard({
        id: `characterization-${metric.key}`,
        title: metric.title,
        spec: layerCurveSpec({ points: rows, shades, yTitle: metric.key, scale: metric.key === 'conditionNumber' && scale === 'linear' ? 'symlog' : scale, colors: COLORS }),
        rows,
        columns: LAYER_COLUMNS,
      }),
    );
  }
  const alignment = layers.flatMap((l) => [
    { index: l.index, section: l.section, region: l.region, series: 'cosine', value: l.cosine },
    { index: l.index, section: l.section, region: l.region, series: 'subspace overlap', value: l.subspaceOverlap },
  ]);
  grid.append(
    chartCard({
      id: 'characterization-alignment',
      title: 'cos(ΔSFT, ΔRL) and top-k subspace overlap',
      spec: layerCurveSpec({ points: alignment, shades, yTitle: 'mean over tensors', colors: COLORS }),
      rows: alignment,
      columns: [...LAYER_COLUMNS.slice(0, 3), { key: 'series', label: 'measure' }, { key: 'value', label: 'value' }],
      note: 'Where defined: a zero update has no cosine and no subspace.',
    }),
  );
  root.append(section(`Per-layer metrics (${layers.length} layers; SFT = IN − Base, RL = RL − IN)`, grid));
}

/** Every tensor name of the characterization, paging through the API's 1000-row pages. */
async function tensorNames(ctx: ViewContext, variables: { base: string; sft: string; rl: string; options: CharacterizationOptions }): Promise<TensorName[]> {
  const names: TensorName[] = [];
  let after: string | undefined;
  for (;;) {
    const page = (await request(CharacterizationTensorNamesDocument, { ...variables, after }, ctx.signal)).characterization.tensors;
    names.push(...page);
    if (page.length < 1000) return names;
    after = page[page.length - 1]!.name;
  }
}

function defaultTensor(names: readonly TensorName[]): TensorName | undefined {
  const llm = names.filter((t) => t.section === 'LLM' && t.shape.length >= 2);
  const middle = llm.length ? Math.round((Math.min(...llm.map((t) => t.index ?? 0)) + Math.max(...llm.map((t) => t.index ?? 0))) / 2) : 0;
  return llm.find((t) => t.index === middle && t.name.includes('down_proj')) ?? llm[0] ?? names[0];
}

async function renderSpectrum(root: HTMLElement, ctx: ViewContext, variables: { base: string; sft: string; rl: string; options: CharacterizationOptions }): Promise<void> {
  const names = await tensorNames(ctx, variables);
  const chosen = names.find((t) => t.name === ctx.state.tensor) ?? defaultTensor(names);
  if (!chosen) {
    root.append(errorNote('This characterization has no tensors.'));
    return;
  }
  const scale = scaleOf(ctx.state.sscale, 'log');
  const body = h('div');
  root.append(
    h(
      'div',
      { class: 'form' },
      selectField('tensor', 'tensor', names.map((t) => ({ value: t.name, label: `${t.name}  [${t.shape.join('×')}]` })), chosen.name, (v) => {
        ctx.set({ tensor: v });
        void showTensor(v);
      }),
      selectField('y scale', 'sscale', (['log', 'linear'] as const).map((s) => ({ value: s, label: s })), scale, (v) => {
        ctx.set({ sscale: v === 'log' ? null : v });
        void showTensor(ctx.state.tensor ?? chosen.name, v as YScale);
      }),
    ),
    body,
  );
  let shownScale = scale;
  const showTensor = async (name: string, newScale?: YScale) => {
    shownScale = newScale ?? shownScale;
    const info = names.find((t) => t.name === name);
    if (!info) return;
    clear(body);
    body.append(h('p', { class: 'note' }, 'loading…'));
    const section: Section = info.section;
    const answer = await request(TensorSpectraDocument, { ...variables, section, layer: info.index ?? undefined }, ctx.signal);
    const tensor = answer.characterization.tensors.find((t) => t.name === name);
    clear(body);
    if (!tensor) {
      body.append(errorNote(`tensor '${name}' has no row in this characterization`));
      return;
    }
    const rows = (['SFT', 'RL'] as const).flatMap((series) => (series === 'SFT' ? tensor.sft : tensor.rl).singularValues.map((value, i) => ({ tensor: name, series, k: i + 1, value })));
    body.append(
      chartCard({
        id: 'characterization-spectrum',
        title: `Top-k singular values of ΔSFT and ΔRL: ${name}`,
        note: `shape ${tensor.shape.join('×')} · effective rank SFT ${formatNumber(tensor.sft.effectiveRank)}, RL ${formatNumber(tensor.rl.effectiveRank)} · cosine ${formatNumber(tensor.cosine)} · subspace overlap ${formatNumber(tensor.subspaceOverlap)}`,
        spec: spectrumSpec({ points: rows, scale: shownScale, colors: COLORS }),
        rows,
        columns: [
          { key: 'tensor', label: 'tensor' },
          { key: 'series', label: 'update' },
          { key: 'k', label: 'k' },
          { key: 'value', label: 'singular value' },
        ],
      }),
    );
  };
  await showTensor(chosen.name);
}
