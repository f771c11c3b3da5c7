import { quoteIdentifier } from './quoteIdentifier.js';
import type { PlainRow } from './duckdbBinding.js';

/** snake_case -> camelCase: 'fro_norm_sum' -> 'froNormSum'. */
export function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** A row read from SQL with its keys in camelCase; values as read. */
export function camelRow<T>(row: PlainRow): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[camelCase(key)] = value;
  return out as T;
}

/** A quoted, comma-separated column list for SELECT. */
export function selectList(columns: readonly { name: string }[], tableAlias?: string): string {
  const prefix = tableAlias ? `${quoteIdentifier(tableAlias)}.` : '';
  return columns.map((column) => prefix + quoteIdentifier(column.name)).join(', ');
}

/** Groups rows by a key and returns one list per requested key, in request order (DataLoader shape). */
export function groupInOrder<T>(keys: readonly string[], rows: readonly T[], keyOf: (row: T) => string): T[][] {
  const byKey = new Map<string, T[]>();
  for (const key of keys) byKey.set(key, []);
  for (const row of rows) byKey.get(keyOf(row))?.push(row);
  return keys.map((key) => byKey.get(key) ?? []);
}

/** One row (or undefined) per requested key, in request order. */
export function pickInOrder<T>(keys: readonly string[], rows: readonly T[], keyOf: (row: T) => string): (T | undefined)[] {
  const byKey = new Map<string, T>();
  for (const row of rows) byKey.set(keyOf(row), row);
  return keys.map((key) => byKey.get(key));
}
