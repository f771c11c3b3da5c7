/** Terminal rendering of results: compact numbers and tables. */
import Table from 'cli-table3';

/** 4 significant digits; exponent form for very large or small magnitudes. */
export function formatNumber(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value !== 'number') return typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) return value.toExponential(3);
  return Number(value.toPrecision(4)).toString();
}

/** A compact table: no rules between rows, numbers right-aligned. */
export function renderTable(head: string[], rows: unknown[][]): string {
  const numeric = head.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number' || r[c] === null));
  const table = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    colAligns: numeric.map((n) => (n ? 'right' : 'left')),
  });
  for (const row of rows) table.push(row.map(formatNumber));
  return table.toString();
}
