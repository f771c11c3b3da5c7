/** CSV of chart data (RFC 4180: comma separated, CRLF, fields quoted when needed). */

export interface CsvColumn {
  key: string;
  label: string;
}

function field(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : typeof value === 'object' ? JSON.stringify(value) : String(value);
  // a leading = + - @ would be run as a formula by spreadsheets; numbers are exempt
  const guarded = typeof value !== 'number' && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

/** The rows as CSV with a header line of column labels; numbers at full precision, null as an empty field. */
export function toCsv(columns: readonly CsvColumn[], rows: readonly Readonly<Record<string, unknown>>[]): string {
  const lines = [columns.map((c) => field(c.label)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => field(row[c.key])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
