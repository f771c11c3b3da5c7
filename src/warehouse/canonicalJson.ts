/**
 * Canonical JSON: object keys sorted recursively, no whitespace, so equal
 * values always give the same text (and the same cache key).
 * Rejects what JSON cannot represent faithfully instead of silently dropping it.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

function write(value: unknown, where: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new RangeError(`canonicalJson: '${where}' is ${value}, which JSON cannot hold`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item, i) => write(item, `${where}[${i}]`)).join(',')}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`canonicalJson: '${where}' is a ${(value as object).constructor?.name ?? 'non-plain object'}, expected a plain object`);
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort();
      return `{${keys.map((key) => `${JSON.stringify(key)}:${write(record[key], `${where}.${key}`)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: '${where}' is a ${typeof value}, which JSON cannot hold`);
  }
}
