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
  /** fixed y range, e.g. [0, 1] for rates (a constant curve otherwise gets a degenerate axis) */
  yDomain?: [number, number];
  width?: number;
  height?: number;
}

// neutral greys, alternating: tinted bands would read as the series' colours
const BAND_COLOURS = ['#f3f3f3', '#e6e6e6'];

/**
 * Curves of `points` over the unified layer index, one per series, with a
 * translucent 95% band where intervals are given and `bands` shaded behind.
 */
export function layerChartSpec(points: readonly SeriesPoint[], options: LayerChartOptions): TopLevelSpec {
  const layers: object[] = [];
  // series keep the order they are given in (legend and colours), not alphabetical
  const series = [...new Set(points.map((p) => p.series))];
  const y = { type: 'quantitative', ...(options.yDomain ? { scale: { domain: options.yDomain } } : {}) };
  if (options.bands?.length) {
    // one layer per band with a constant fill: a field-driven fill would share a scale with the curves
    options.bands.forEach((b, i) => {
      layers.push({
        data: { values: [b] },
        mark: { type: 'rect', opacity: 0.9, fill: BAND_COLOURS[i % BAND_COLOURS.length] },
        encoding: {
          x: { field: 'from', type: 'quantitative' },
          x2: { field: 'to' },
          tooltip: [{ field: 'label', type: 'nominal' }],
        },
      });
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
      // fillOpacity, not opacity: the shared legend would copy an opacity and draw pale symbols
      mark: { type: 'area', fillOpacity: 0.18 },
      encoding: {
        x: { field: 'index', type: 'quantitative' },
        y: { field: 'low', ...y },
        y2: { field: 'high' },
        color: { field: 'series', type: 'nominal', scale: { domain: series } },
      },
    });
  }
  layers.push({
    data: { values: points },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'index', type: 'quantitative', title: 'layer (unified index: vision < 0, projector 0, LLM > 0)', axis: { tickMinStep: 1 } },
      y: { field: 'value', ...y, title: options.yTitle },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: series } },
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
