/**
 * Quotes a SQL identifier (table, column) for DuckDB. Every identifier that
 * enters SQL text goes through here; values go through parameter binding.
 */
export function quoteIdentifier(name: string): string {
  if (name.length === 0) throw new RangeError("quoteIdentifier: 'name' is empty");
  if (name.includes('\u0000')) throw new RangeError(`quoteIdentifier: 'name' contains a NUL character`);
  return `"${name.replaceAll('"', '""')}"`;
}
