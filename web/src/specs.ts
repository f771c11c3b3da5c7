/**
 * Vega-Lite specifications of the dashboard's charts. Pure functions of the
 * rows they plot, so the CSV and the data table of a chart hold exactly the
 * values drawn.
 */
import type { TopLevelSpec } from 'vega-lite';
import { REGION_COLORS, type Shade } from './regions.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const HEIGHT = 220;

export type YScale = 'linear' | 'symlog' | 'log';

function shadeLayer(shades: readonly Shade[]) {
  const present = shades.map((s) => s.region);
  return {
    data: { values: shades.map((s) => ({ ...s })) },
    mark: { type: 'rect' as const, opacity: 0.75 },
    encoding: {
      x: { field: 'start', type: 'quantitative' as const },
      x2: { field: 'end' },
      fill: { field: 'region', type: 'nominal' as const, scale: { domain: present, range: present.map((r) => REGION_COLORS[r]) }, legend: { title: 'region', orient: 'bottom' as const } },
      tooltip: [{ field: 'region', type: 'nominal' as const }],
    },
  };
}

function xDomain(shades: readonly Shade[], indices: readonly number[]): [number, number] {
  const starts = [...shades.map((s) => s.start), ...indices.map((i) => i - 0.5)];
  const ends = [...shades.map((s) => s.end), ...indices.map((i) => i + 0.5)];
  return [Math.min(...starts), Math.max(...ends)];
}

function yScale(scale: YScale, domain?: readonly [number, number]) {
  return scale === 'linear' ? { zero: false, ...(domain ? { domain: [...domain] } : {}) } : { type: scale };
}

/** One point of a per-layer curve; `series` is e.g. "SFT" or "RL". */
export interface CurvePoint {
  index: number;
  series: string;
  value: number | null;
}

/** Per-layer curves over the unified index with the regions shaded behind them. */
export function layerCurveSpec(options: { points: readonly CurvePoint[]; shades: readonly Shade[]; yTitle: string; scale?: YScale; colors?: Readonly<Record<string, string>> }): TopLevelSpec {
  const { points, shades } = options;
  const series = [...new Set(points.map((p) => p.series))];
  // a log axis cannot show zero or negative values: those points are left out of the drawing (not of the data)
  const drawn = options.scale === 'log' ? points.filter((p) => p.value !== null && p.value > 0) : points.filter((p) => p.value !== null);
  return {
    $schema: SCHEMA,
    width: 'container',
    height: HEIGHT,
    autosize: { type: 'fit-x', contains: 'padding' },
    layer: [
      shadeLayer(shades),
      {
        data: { values: drawn.map((p) => ({ ...p })) },
        mark: { type: 'line', point: true, strokeWidth: 1.8 },
        encoding: {
          x: { field: 'index', type: 'quantitative', title: 'unified layer index', scale: { domain: xDomain(shades, points.map((p) => p.index)), nice: false, zero: false }, axis: { tickMinStep: 1, format: 'd' } },
          y: { field: 'value', type: 'quantitative', title: options.yTitle, scale: yScale(options.scale ?? 'linear') },
          color: { field: 'series', type: 'nominal', title: null, scale: options.colors ? { domain: series, range: series.map((s) => options.colors![s] ?? '#555') } : {} },
          tooltip: [
            { field: 'index', type: 'quantitative' },
            { field: 'series', type: 'nominal' },
            { field: 'value', type: 'quantitative', format: '.4~g' },
          ],
        },
      },
    ],
  } as TopLevelSpec;
}

/** A per-layer number with its 95% interval, for one task (or 'all'). */
export interface BandPoint {
  index: number;
  task: string;
  value: number;
  ciLow: number | null;
  ciHigh: number | null;
}

/** Per-layer values per task with their 95% bands, optional baselines as dashed rules, regions shaded. */
export function bandSpec(options: { points: readonly BandPoint[]; baselines?: readonly { task: string; value: number; label: string }[]; shades: readonly Shade[]; yTitle: string; yDomain?: readonly [number, number]; seriesTitle?: string }): TopLevelSpec {
  const { points, shades } = options;
  const tasks = [...new Set([...points.map((p) => p.task), ...(options.baselines ?? []).map((b) => b.task)])];
  // one legend for all layers: solid swatches, not the bands' faint fill
  const color = { field: 'task', type: 'nominal', scale: { domain: tasks }, title: options.seriesTitle ?? 'task', legend: { symbolOpacity: 1, symbolFillOpacity: 1 } };
  const x = { field: 'index', type: 'quantitative', title: 'unified layer index (LLM layer + 1)', scale: { domain: xDomain(shades, points.map((p) => p.index)), nice: false, zero: false }, axis: { tickMinStep: 1, format: 'd' } };
  const y = { field: 'value', type: 'quantitative', title: options.yTitle, scale: yScale('linear', options.yDomain) };
  const layers: unknown[] = [
    shadeLayer(shades),
    {
      data: { values: points.filter((p) => p.ciLow !== null && p.ciHigh !== null).map((p) => ({ ...p })) },
      mark: { type: 'area', opacity: 0.18 },
      encoding: { x, y: { ...y, field: 'ciLow' }, y2: { field: 'ciHigh' }, color },
    },
    {
      data: { values: points.map((p) => ({ ...p })) },
      mark: { type: 'line', point: true, strokeWidth: 1.6 },
      encoding: {
        x,
        y,
        color,
        tooltip: [
          { field: 'index', type: 'quantitative' },
          { field: 'task', type: 'nominal' },
          { field: 'value', type: 'quantitative', format: '.4~g' },
          { field: 'ciLow', type: 'quantitative', format: '.4~g', title: '95% low' },
          { field: 'ciHigh', type: 'quantitative', format: '.4~g', title: '95% high' },
        ],
      },
    },
  ];
  if (options.baselines?.length) {
    layers.push({
      data: { values: options.baselines.map((b) => ({ ...b })) },
      mark: { type: 'rule', strokeDash: [5, 4], strokeWidth: 1.2 },
      encoding: { y: { field: 'value', type: 'quantitative' }, color, tooltip: [{ field: 'label', type: 'nominal', title: 'baseline' }, { field: 'task', type: 'nominal' }, { field: 'value', type: 'quantitative', format: '.4~g' }] },
    });
  }
  return { $schema: SCHEMA, width: 'container', height: HEIGHT, autosize: { type: 'fit-x', contains: 'padding' }, layer: layers } as TopLevelSpec;
}

/** A singular-value spectrum: value by rank k (1-based), one line per update. */
export function spectrumSpec(options: { points: readonly { k: number; series: string; value: number }[]; scale: YScale; colors?: Readonly<Record<string, string>> }): TopLevelSpec {
  const series = [...new Set(options.points.map((p) => p.series))];
  const drawn = options.scale === 'log' ? options.points.filter((p) => p.value > 0) : options.points;
  return {
    $schema: SCHEMA,
    width: 'container',
    height: HEIGHT + 40,
    autosize: { type: 'fit-x', contains: 'padding' },
    data: { values: drawn.map((p) => ({ ...p })) },
    mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.6 },
    encoding: {
      x: { field: 'k', type: 'quantitative', title: 'k (singular value rank)', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: 'singular value', scale: yScale(options.scale) },
      color: { field: 'series', type: 'nominal', title: null, scale: options.colors ? { domain: series, range: series.map((s) => options.colors![s] ?? '#555') } : {} },
      tooltip: [
        { field: 'k', type: 'quantitative' },
        { field: 'series', type: 'nominal' },
        { field: 'value', type: 'quantitative', format: '.4~g' },
      ],
    },
  } as TopLevelSpec;
}

/** One bar: a model or variant (`label`) in a group (condition, kind) of a panel (setting). */
export interface BarPoint {
  panel: string;
  label: string;
  group: string;
  value: number | null;
  ciLow: number | null;
  ciHigh: number | null;
}

/** Settings in METHOD.md's order; other panel names follow. */
const PANEL_ORDER = ['PERCEPTION', 'ALIGNMENT', 'REASONING'];

/** Horizontal grouped bars with 95% interval rules, one panel per setting; `labels` fixes the order of the rows. */
export function barsSpec(options: { points: readonly BarPoint[]; labels: readonly string[]; yTitle: string; yDomain?: readonly [number, number]; groupTitle: string; intervals?: boolean }): TopLevelSpec {
  const y = { field: 'label', type: 'nominal', title: null, sort: [...options.labels], axis: { labelLimit: 260 } };
  const yOffset = { field: 'group', type: 'nominal' };
  const groups = new Set(options.points.map((p) => p.group)).size;
  return {
    $schema: SCHEMA,
    data: { values: options.points.filter((p) => p.value !== null).map((p) => ({ ...p })) },
    facet: { column: { field: 'panel', type: 'nominal', title: null, sort: PANEL_ORDER, header: { labelFontWeight: 'bold', labelFontSize: 12 } } },
    spec: {
      width: 220,
      height: { step: Math.max(8, 22 / Math.max(1, groups)) },
      layer: [
        {
          mark: { type: 'bar' },
          encoding: {
            y,
            yOffset,
            x: { field: 'value', type: 'quantitative', title: options.yTitle, scale: yScale('linear', options.yDomain) },
            color: { field: 'group', type: 'nominal', title: options.groupTitle },
            tooltip: [
              { field: 'panel', type: 'nominal', title: 'setting' },
              { field: 'label', type: 'nominal', title: 'variant' },
              { field: 'group', type: 'nominal', title: options.groupTitle },
              { field: 'value', type: 'quantitative', format: '.4~g' },
              { field: 'ciLow', type: 'quantitative', format: '.4~g', title: '95% low' },
              { field: 'ciHigh', type: 'quantitative', format: '.4~g', title: '95% high' },
            ],
          },
        },
        ...(options.intervals === false
          ? []
          : [
              {
                mark: { type: 'rule', color: '#222' },
                encoding: { y, yOffset, x: { field: 'ciLow', type: 'quantitative' }, x2: { field: 'ciHigh' } },
              },
            ]),
      ],
    },
  } as TopLevelSpec;
}
