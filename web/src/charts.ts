/**
 * A chart card: the Vega-Lite chart (its action menu saves PNG or SVG), a
 * button that downloads the chart's rows as CSV, and the same rows as a
 * table whose cells carry their exact values in `data-value`.
 */
import embed from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';
import { toCsv, type CsvColumn } from './csv.js';
import { download, h, type Child } from './dom.js';
import { formatNumber } from './format.js';

export interface Column extends CsvColumn {
  /** how the table shows the value (the CSV and data-value keep it exact) */
  format?: (value: unknown, row: Readonly<Record<string, unknown>>) => string;
}

export interface ChartOptions {
  /** stable id: the card's data-chart attribute and the download file names */
  id: string;
  title: string;
  /** null: a table-only card */
  spec: TopLevelSpec | null;
  rows: readonly Readonly<Record<string, unknown>>[];
  columns: readonly Column[];
  note?: Child;
  /** show the table open (default: open when there is no chart) */
  tableOpen?: boolean;
}

/** The rows as a table; each cell has data-col and, for values, data-value with the exact value. */
export function dataTable(id: string, columns: readonly Column[], rows: readonly Readonly<Record<string, unknown>>[]): HTMLTableElement {
  return h(
    'table',
    { class: 'data-table', 'data-table': id },
    h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c.label)))),
    h(
      'tbody',
      {},
      ...rows.map((row) =>
        h(
          'tr',
          { 'data-row': '' },
          ...columns.map((c) => {
            const value = row[c.key];
            const exact = value === null || value === undefined ? null : typeof value === 'object' ? JSON.stringify(value) : String(value);
            return h('td', { 'data-col': c.key, 'data-value': exact, class: typeof value === 'number' ? 'num' : undefined }, c.format ? c.format(value, row) : formatNumber(value));
          }),
        ),
      ),
    ),
  );
}

export function chartCard(options: ChartOptions): HTMLElement {
  const chart = h('div', { class: 'chart' });
  const csvButton = h(
    'button',
    { type: 'button', class: 'secondary', 'data-action': 'csv', title: 'the rows behind this chart, at full precision', onclick: () => download(`${options.id}.csv`, toCsv(options.columns, options.rows), 'text/csv') },
    'Download CSV',
  );
  const table = dataTable(options.id, options.columns, options.rows);
  const card = h(
    'section',
    { class: 'card', 'data-chart': options.id, 'data-rows': options.rows.length },
    h('header', {}, h('h3', {}, options.title), csvButton),
    options.note ? h('p', { class: 'note' }, options.note) : null,
    options.spec ? chart : null,
    h('details', { class: 'table-wrap', open: options.tableOpen ?? !options.spec }, h('summary', {}, `Data (${options.rows.length} rows)`), table),
  );
  if (options.spec) {
    card.dataset.chartState = 'rendering';
    // the card is in the document by the next frame, so a 'container' width is known
    requestAnimationFrame(() => {
      embed(chart, options.spec!, {
        actions: { export: { svg: true, png: true }, source: false, compiled: false, editor: false },
        renderer: 'svg',
        downloadFileName: options.id,
        scaleFactor: { png: 2 },
      }).then(
        () => (card.dataset.chartState = 'ready'),
        (err: unknown) => {
          card.dataset.chartState = 'error';
          chart.replaceChildren(h('p', { class: 'error' }, `chart failed: ${(err as Error).message}`));
        },
      );
    });
  }
  return card;
}
