import type { RunRow } from '../warehouse/index.js';
import { RunStatus } from '../schema/enums.js';
import type { Run } from '../schema/run.type.js';

function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** Warehouse row to GraphQL Run, with in-process live progress when fresher. */
export function toRun(row: RunRow, live?: { progress: number; message: string | null }): Run {
  const running = row.status === 'RUNNING' || row.status === 'QUEUED';
  return {
    id: row.id,
    kind: row.kind,
    status: row.status as RunStatus,
    progress: running && live ? live.progress : row.progress,
    message: running && live ? live.message : (row.message ?? null),
    params: row.params,
    inputs: row.inputs,
    cacheKey: row.cacheKey,
    engineVersion: row.engineVersion,
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    error: row.error ?? null,
  };
}
