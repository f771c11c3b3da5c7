/**
 * Necessity (METHOD.md §4): RL next to checkpoints trained with layer ranges
 * frozen and the training-free proxies (RL with a region reverted to IN, IN
 * with a region from RL), each with its share of RL's gain over IN.
 */
import { request } from '../api.js';
import { chartCard, type Column } from '../charts.js';
import { checkboxField, h } from '../dom.js';
import { formatNumber, formatWithInterval } from '../format.js';
import { NecessityDocument, type AnalysisOptions, type NecessityQuery } from '../generated/graphql.js';
import { RunStatusPanel, untilDone } from '../runs.js';
import { barsSpec } from '../specs.js';
import { analysisOptions, layerCuts, optionFields, runButton, section, type View, type ViewContext } from './common.js';

type NecessityRow = NecessityQuery['necessity']['rows'][number];

const KIND_LABELS: Record<string, string> = { in: 'IN', rl: 'RL', frozen: 'frozen during RL', revert_proxy: 'revert proxy', reverse_proxy: 'reverse proxy' };

export function necessityLabel(row: { variant: string; kind: string; region?: string | null }): string {
  if (row.kind === 'in') return `IN (${row.variant})`;
  if (row.kind === 'rl') return `RL (${row.variant})`;
  if (row.kind === 'revert_proxy') return `RL with IN ${row.region ?? ''}`.trim();
  if (row.kind === 'reverse_proxy') return `IN with RL ${row.region ?? ''}`.trim();
  return row.variant;
}

/** The frozen checkpoints chosen: the URL's list ('none' for an empty one), else every checkpoint whose id says 'freeze'. */
export function frozenOf(ctx: ViewContext): string[] {
  const others = ctx.catalog.checkpoints.map((c) => c.id).filter((id) => id !== ctx.trio.base && id !== ctx.trio.sft && id !== ctx.trio.rl);
  if (ctx.state.frozen === 'none') return [];
  if (ctx.state.frozen) return ctx.state.frozen.split(',').filter((id) => others.includes(id));
  return others.filter((id) => id.includes('freeze'));
}

const TABLE_COLUMNS: Column[] = [
  { key: 'label', label: 'variant' },
  { key: 'kind', label: 'kind', format: (v) => KIND_LABELS[String(v)] ?? String(v) },
  { key: 'setting', label: 'setting' },
  { key: 'condition', label: 'condition' },
  { key: 'accuracy', label: 'accuracy [95%]', format: (_, r) => formatWithInterval(r.accuracy as number | null, r.ciLow as number | null, r.ciHigh as number | null) },
  { key: 'ciLow', label: '95% low' },
  { key: 'ciHigh', label: '95% high' },
  { key: 'n', label: 'n' },
  { key: 'gainOverIn', label: 'gain over IN' },
  { key: 'shareOfRlGain', label: 'share of RL’s gain', format: (v) => (v === null || v === undefined ? '— (RL gains nothing)' : formatNumber(v)) },
  { key: 'variant', label: 'variant id' },
];

export const necessityView: View = (root, ctx) => {
  const { state } = ctx;
  const frozen = frozenOf(ctx);
  const candidates = ctx.catalog.checkpoints.map((c) => c.id).filter((id) => id !== ctx.trio.base && id !== ctx.trio.sft && id !== ctx.trio.rl);
  const status = new RunStatusPanel('Necessity');
  const results = h('div', { class: 'results' });
  const chosen = new Set(frozen);
  const frozenBoxes = candidates.length
    ? candidates.map((id) =>
        checkboxField(id, `frozen:${id}`, chosen.has(id), (checked) => {
          if (checked) chosen.add(id);
          else chosen.delete(id);
          ctx.set({ frozen: chosen.size ? candidates.filter((c) => chosen.has(c)).join(',') : 'none' });
        }),
      )
    : [h('span', { class: 'note' }, 'No other checkpoints are registered: only the proxies are scored. (The demo registers demo/rl-freeze-early, -middle and -late once trained.)')];
  root.append(
    section(
      'Necessity: is RL’s change in a region needed?',
      h('p', { class: 'lead' }, 'Checkpoints trained with a layer range frozen during RL, next to RL, IN and the training-free proxies (RL with one region reverted to IN; IN with one region from RL).'),
      h('fieldset', { class: 'form' }, h('legend', {}, 'frozen-layer checkpoints'), ...frozenBoxes),
      h('div', { class: 'form' }, ...optionFields(ctx, ['cuts', 'maxExamples', 'maxNewTokens', 'scoring', 'bootstrap']), runButton(ctx)),
      status.element,
    ),
    results,
  );
  if (!ctx.probeSet) return status.error('Pick a probe set above.');
  if (state.run !== '1') return status.idle('Press Run: every model and proxy is read from the warehouse, or scored there if missing.');
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
    load: () => request(NecessityDocument, { sft: ctx.trio.sft, rl: ctx.trio.rl, frozen, probeSet, layerCuts: cuts, options }, ctx.signal),
    progressOf: (a) => ({ status: a.necessity.status, progress: a.necessity.progress, runs: a.necessity.runs }),
    panel: status,
    signal: ctx.signal,
  }).then((answer) => {
    if (answer) renderRows(results, ctx, answer.necessity.rows);
  }, () => undefined);
};

function renderRows(root: HTMLElement, ctx: ViewContext, rows: readonly NecessityRow[]): void {
  const table = rows.map((r) => ({ ...r, label: necessityLabel(r), kindLabel: KIND_LABELS[r.kind] ?? r.kind }));
  const labels = [...new Set(table.map((r) => r.label))];
  const accuracy = table.map((r) => ({ panel: r.setting, label: r.label, group: r.kindLabel, value: r.accuracy, ciLow: r.ciLow, ciHigh: r.ciHigh }));
  const share = table.map((r) => ({ panel: r.setting, label: r.label, group: r.kindLabel, value: r.shareOfRlGain, ciLow: null, ciHigh: null }));
  const barColumns: Column[] = [
    { key: 'panel', label: 'setting' },
    { key: 'label', label: 'variant' },
    { key: 'group', label: 'kind' },
    { key: 'value', label: 'value' },
    { key: 'ciLow', label: '95% low' },
    { key: 'ciHigh', label: '95% high' },
  ];
  root.append(
    section(
      `Necessity on ${ctx.probeSet!.id}`,
      chartCard({ id: 'necessity-accuracy', title: 'Accuracy per setting with 95% intervals', spec: barsSpec({ points: accuracy, labels, yTitle: 'accuracy', yDomain: [0, 1], groupTitle: 'kind' }), rows: accuracy, columns: barColumns }),
      chartCard({
        id: 'necessity-share',
        title: 'Share of RL’s gain over IN kept: (acc − IN) / (RL − IN)',
        note: share.some((p) => p.value !== null)
          ? 'A revert proxy keeping little of the gain means the reverted region carried it (a training-free proxy, not a retraining). Settings where RL gains nothing have no share.'
          : 'RL gains nothing over IN in any setting here: there is no share to draw.',
        spec: share.some((p) => p.value !== null) ? barsSpec({ points: share, labels, yTitle: 'share of RL’s gain', groupTitle: 'kind', intervals: false }) : null,
        tableOpen: false,
        rows: share,
        columns: barColumns,
      }),
      chartCard({ id: 'necessity-table', title: 'All rows', spec: null, rows: table, columns: TABLE_COLUMNS }),
    ),
  );
}
