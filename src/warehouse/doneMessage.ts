/**
 * The message a run keeps once DONE: what was done, from the rows stored
 * with it, instead of whatever progress message came last ("batch 1/1:
 * clean answers" on a finished run).
 */
import type { AnalysisRows, CharacterizationRows } from './types.js';

function count(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

export function characterizationDoneMessage(result: CharacterizationRows): string {
  const tensors = new Set(result.tensors.map((t) => t.tensorName)).size;
  const layers = new Set(result.layers.map((l) => l.layerIndex)).size;
  return `done: characterized ${count(tensors, 'tensor')} in ${count(layers, 'layer')}`;
}

export function analysisDoneMessage(result: AnalysisRows): string {
  const examples = new Set((result.exampleResults ?? []).map((e) => e.exampleId)).size;
  const layers = new Set((result.layerEffects ?? []).map((e) => e.layerIndex).filter((l) => l !== null && l !== undefined)).size;
  const effects = (result.layerEffects ?? []).length;
  return `done: ${count(examples, 'example')} scored, ${count(effects, 'result')}${layers > 0 ? ` over ${count(layers, 'layer')}` : ''}`;
}

/** The in-process executor's name: units it computed need no credit in the message. */
const IN_PROCESS = 'in-process';

/**
 * Who computed a distributed run's units, kept in its DONE message because
 * the staged units that record it are dropped with the DONE transaction.
 * Empty for a run computed wholly in process.
 */
export function unitsByWorkerSuffix(counts: readonly (readonly [string, number])[]): string {
  if (counts.length === 0 || counts.every(([worker]) => worker === IN_PROCESS)) return '';
  const total = counts.reduce((sum, [, n]) => sum + n, 0);
  return `; ${count(total, 'unit')} by ${counts.map(([worker, n]) => `${worker} (${n})`).join(', ')}`;
}
