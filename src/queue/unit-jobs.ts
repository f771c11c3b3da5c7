/**
 * What travels through the queue for one work unit, and the names both ends
 * agree on. Job ids are the run id and unit index, so enqueueing a unit
 * again (a resumed run, Redis coming back empty) never makes a second job.
 */
import { relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { WorkUnit } from '../engine/units/work-unit.js';

export const UNIT_QUEUE = 'frankenscope-units';
/** Redis pub/sub channel on which the coordinator names runs to stop. */
export const CANCEL_CHANNEL = 'frankenscope:cancel';

export function unitJobId(runId: string, unitIndex: number): string {
  return `${runId}-u${unitIndex}`;
}

/** Set while a run is cancelled, so a worker that takes one of its units late drops it. */
export function cancelledKey(runId: string): string {
  return `frankenscope:cancelled:${runId}`;
}

/** A unit as queued: its module relative to the package root, so a worker installed elsewhere finds its own copy. */
export interface UnitJobData {
  runId: string;
  unit: Omit<WorkUnit, 'module'> & { packageModule: string };
}

/** What a worker answers: the encodeUnitResult bytes as base64 (job return values are JSON). */
export interface UnitJobResult {
  result: string;
  worker: string;
  /** ms from the job's start on the worker to its result, compute alone */
  computeMs: number;
  /** epoch ms when the worker started the unit */
  startedAt: number;
  /** epoch ms when the worker had the result */
  finishedAt: number;
}

/** The unit's module relative to `packageRoot`; a module outside the package is refused (workers run package code only). */
export function toJobData(runId: string, unit: WorkUnit, packageRoot: string): UnitJobData {
  const path = fileURLToPath(unit.module);
  const rel = relative(packageRoot, path);
  if (rel.startsWith('..') || rel === '' || resolve(packageRoot, rel) !== path) {
    throw new Error(`unit ${unit.index} (${unit.label}): module ${unit.module} is outside the package ${packageRoot}; queue workers only run package modules`);
  }
  const { module: _module, ...rest } = unit;
  return { runId, unit: { ...rest, packageModule: rel.split(sep).join('/') } };
}

/** The module href on this machine, refusing paths that climb out of the package. */
export function moduleHref(packageModule: string, packageRoot: string): string {
  const path = resolve(packageRoot, packageModule);
  if (relative(packageRoot, path).startsWith('..')) throw new Error(`module '${packageModule}' is outside the package`);
  return pathToFileURL(path).href;
}
