import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DbConnection } from '../duckdbBinding.js';
import { inTransaction } from '../inTransaction.js';
import { errorMessage } from '../WarehouseError.js';
import { writeReferenceFiles, writeRunFiles } from './lakeFiles.js';
import { LakeError } from './LakeError.js';
import { ParquetCopier } from './ParquetCopier.js';
import type { WithConnection } from './LakeWriter.js';

/** What an export wrote. */
export interface ExportSummary {
  /** the folder written */
  dir: string;
  runs: number;
  files: number;
}

/** DIR may be new or an empty folder; anything else is refused before anything is written. */
function assertWritableTarget(dir: string): void {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new LakeError('EXPORT_TARGET_NOT_EMPTY', `'${dir}' exists and is not a folder; give a new or empty folder`);
    entries = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (entries.length > 0) {
    throw new LakeError('EXPORT_TARGET_NOT_EMPTY', `'${dir}' is not empty (${entries.length} entries); give a new or empty folder, an export never mixes with other files`);
  }
}

/**
 * Writes the whole warehouse as Parquet under `target`, in the lake's layout
 * (lakeTables.ts), from one snapshot: every run of any status (a run that is
 * not DONE has its `runs` row and no results) and every reference table.
 * Everything goes to a temp folder beside `target`, renamed into place at
 * the end: `target` holds the whole export or nothing.
 * @throws LakeError EXPORT_TARGET_NOT_EMPTY (nothing written), EXPORT_FAILED (nothing left behind)
 */
export async function exportLake(read: WithConnection, target: string, progress: (line: string) => void): Promise<ExportSummary> {
  const dir = resolve(target);
  assertWritableTarget(dir);
  const temp = join(dirname(dir), `.${basename(dir)}.export-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let copier: ParquetCopier | undefined;
  try {
    mkdirSync(temp, { recursive: true });
    copier = await ParquetCopier.create();
    const summary = await read((connection) => inTransaction(connection, () => writeAll(copier!, connection, temp, progress)));
    assertWritableTarget(dir);
    // rename(2) replaces an empty folder in one step
    renameSync(temp, dir);
    progress(`export: wrote ${summary.files} files for ${summary.runs} runs to ${dir}`);
    return { dir, ...summary };
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    if (error instanceof LakeError) throw error;
    throw new LakeError('EXPORT_FAILED', `export to '${dir}' failed, nothing was written there: ${errorMessage(error)}`, { cause: error });
  } finally {
    copier?.closeSync();
  }
}

async function writeAll(copier: ParquetCopier, connection: DbConnection, root: string, progress: (line: string) => void): Promise<{ runs: number; files: number }> {
  const runs = await connection.all(`SELECT id, kind, status FROM runs ORDER BY started_at, id`);
  let files = 0;
  for (const [i, row] of runs.entries()) {
    const written = await writeRunFiles(copier, connection, root, { id: String(row.id), kind: String(row.kind) });
    files += written;
    progress(`export: run ${i + 1}/${runs.length} ${String(row.id)} (${String(row.kind)}, ${String(row.status)}): ${written} files`);
  }
  const references = await writeReferenceFiles(copier, connection, root);
  files += references;
  progress(`export: reference tables: ${references} files`);
  return { runs: runs.length, files };
}
