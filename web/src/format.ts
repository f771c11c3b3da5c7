/** Number formatting for tables and labels (the data attributes keep full precision). */

export function formatNumber(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value !== 'number') return String(value);
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e6) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`;
}

/** "0.62 [0.50, 0.75]" */
export function formatWithInterval(value: number | null | undefined, low: number | null | undefined, high: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return low === null || low === undefined || high === null || high === undefined ? formatNumber(value) : `${formatNumber(value)} [${formatNumber(low)}, ${formatNumber(high)}]`;
}
