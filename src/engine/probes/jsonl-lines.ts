import { FileAccessError, JsonSyntaxError, parseJsonNamingPlace, readConfinedText, type AllowedRoots } from '../fs/confined-files.js';
import { ProbeSetError } from './ProbeSetError.js';

/** One non-blank line of a JSONL file, parsed to an object. */
export interface JsonlRecord {
  /** 1-based line number in the file */
  line: number;
  value: Record<string, unknown>;
}

/**
 * Reads a JSONL file (a regular file inside `roots`): blank lines are
 * skipped, every other line must be one JSON object.
 * @throws ProbeSetError NOT_FOUND when the file is missing, BAD_JSON naming the line and column
 * @throws FileAccessError when the file resolves outside the roots or is not a regular file
 */
export async function readJsonl(file: string, roots: AllowedRoots): Promise<JsonlRecord[]> {
  let text: string;
  try {
    text = await readConfinedText(file, roots);
  } catch (error) {
    if (error instanceof FileAccessError && error.reason === 'MISSING') throw new ProbeSetError('NOT_FOUND', 'the file does not exist', { file });
    throw error;
  }
  const records: JsonlRecord[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = parseJsonNamingPlace(raw, file);
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error;
      throw new ProbeSetError('BAD_JSON', `not valid JSON: ${error.problem} at column ${error.column}`, { file, line: i + 1 });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ProbeSetError('BAD_JSON', 'each line must be one JSON object', { file, line: i + 1 });
    }
    records.push({ line: i + 1, value: value as Record<string, unknown> });
  }
  return records;
}
