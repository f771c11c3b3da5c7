import { readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';

/** The temp names ParquetCopier writes: `.<file>.<pid>-<8 hex>.tmp`. */
const TEMP_NAME = /^\..+\.(\d+)-[0-9a-f]{8}\.tmp$/;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files a killed process left under `root` (never a final
 * name, and skipped by every reader's glob, but litter). A file whose
 * writer still runs is left alone. Resolves to how many were removed.
 */
export function removeStaleTempFiles(root: string): number {
  let entries: string[];
  try {
    entries = readdirSync(root, { recursive: true, encoding: 'utf8' });
  } catch {
    return 0;
  }
  let removed = 0;
  for (const entry of entries) {
    const pid = TEMP_NAME.exec(basename(entry))?.[1];
    if (pid === undefined || Number(pid) === process.pid || isAlive(Number(pid))) continue;
    rmSync(join(root, entry), { force: true });
    removed++;
  }
  return removed;
}
