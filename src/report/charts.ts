/**
 * Per-layer charts as Vega-Lite specs (pure functions of plain rows, so any
 * client can reuse them) and their rendering to SVG in Node (no browser, no
 * canvas: Vega's headless renderer).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One point of a per-layer series, with an optional 95% interval. */
export interface SeriesPoint {
  index: number;
  value: number;
  low?: number | null;
  high?: number | null;
  series: string;
}

/** A shaded span of the layer axis, e.g. a region. */
export interface Band {
  from: number;
  to: number;
  label: string;
}

export interface LayerChartOptions {
  title: string;
  yTitle: string;
  /** shaded spans behind the curves */
  bands?: Band[];
  width?: number;
  height?: number;
}

const BAND_COLOURS = ['#f2f2f2', '#e4ecf7', '#f7ece4', '#e9f5e6', '#f5e6f1'];

/**
 * Curves of `points` over the unified layer index, one per series, with a
 * translucent 95% band where intervals are given and `bands` shaded behind.
 */
export function layerChartSpec(points: readonly SeriesPoint[], options: LayerChartOptions): TopLevelSpec {
  const layers: object[] = [];
  if (options.bands?.length) {
    layers.push({
      data: { values: options.bands.map((b, i) => ({ ...b, shade: BAND_COLOURS[i % BAND_COLOURS.length] })) },
      mark: { type: 'rect', opacity: 0.9 },
      encoding: {
        x: { field: 'from', type: 'quantitative' },
        x2: { field: 'to' },
        // fill, not color: a shared colour scale would swallow the curves' legend
        fill: { field: 'shade', type: 'nominal', scale: null, legend: null },
        tooltip: [{ field: 'label', type: 'nominal' }],
      },
    });
    layers.push({
      data: { values: options.bands.map((b) => ({ at: (b.from + b.to) / 2, label: b.label })) },
      mark: { type: 'text', baseline: 'top', dy: 2, fontSize: 10, color: '#777' },
      encoding: { x: { field: 'at', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label', type: 'nominal' } },
    });
  }
  const withInterval = points.filter((p) => p.low != null && p.high != null);
  if (withInterval.length > 0) {
    layers.push({
      data: { values: withInterval },
      mark: { type: 'area', opacity: 0.18 },
      encoding: {
        x: { field: 'index', type: 'quantitative' },
        y: { field: 'low', type: 'quantitative' },
        y2: { field: 'high' },
        color: { field: 'series', type: 'nominal' },
      },
    });
  }
  layers.push({
    data: { values: points },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'index', type: 'quantitative', title: 'layer (unified index: vision < 0, projector 0, LLM > 0)', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title: options.yTitle },
      color: { field: 'series', type: 'nominal', title: null },
      tooltip: [
        { field: 'series', type: 'nominal' },
        { field: 'index', type: 'quantitative' },
        { field: 'value', type: 'quantitative', format: '.4f' },
      ],
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title,
    width: options.width ?? 560,
    height: options.height ?? 220,
    layer: layers,
  } as TopLevelSpec;
}

/** Renders a Vega-Lite spec to an SVG string (headless; fonts are measured by estimate). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
