import { readFile } from 'node:fs/promises';
import { ProbeSetError } from './ProbeSetError.js';

/** One non-blank line of a JSONL file, parsed to an object. */
export interface JsonlRecord {
  /** 1-based line number in the file */
  line: number;
  value: Record<string, unknown>;
}

/**
 * Reads a JSONL file: blank lines are skipped, every other line must be one
 * JSON object.
 * @throws ProbeSetError NOT_FOUND when the file cannot be read, BAD_JSON naming the line
 */
export async function readJsonl(file: string): Promise<JsonlRecord[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ProbeSetError('NOT_FOUND', `cannot read the file: ${(error as Error).message}`, { file });
  }
  const records: JsonlRecord[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new ProbeSetError('BAD_JSON', `not valid JSON: ${(error as Error).message}`, { file, line: i + 1 });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ProbeSetError('BAD_JSON', 'each line must be one JSON object', { file, line: i + 1 });
    }
    records.push({ line: i + 1, value: value as Record<string, unknown> });
  }
  return records;
}
