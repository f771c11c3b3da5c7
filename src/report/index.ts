/**
 * `frankenscope report`: runs the whole analysis of a trio (characterization,
 * both localizations, attention shift, activation patching, transferability,
 * necessity) and writes one self-contained HTML file (docs/report.md).
 */
import { rename, writeFile } from 'node:fs/promises';
import type { App } from '../app.js';
import { ENGINE_VERSION } from '../engine/version.js';
import { collectReport, type ReportData, type ReportRequest } from './collect.js';
import { renderReport } from './html.js';

export { collectReport, ReportQueryError, type ReportData, type ReportRequest } from './collect.js';
export { escapeHtml, formatValue, renderReport, transferabilityCells } from './html.js';
export { layerChartSpec, renderSvg } from './charts.js';
export { summarise } from './summary.js';

/**
 * Collects every analysis and writes the report to `path` (atomically: a
 * failed report leaves no file). Returns the data and every run id it read.
 */
export async function writeReport(app: App, request: ReportRequest & { path: string; now?: Date }): Promise<{ path: string; data: ReportData; runIds: string[] }> {
  const data = await collectReport(app, request);
  const html = await renderReport(data, request.now ?? new Date(), ENGINE_VERSION);
  const partial = `${request.path}.partial`;
  await writeFile(partial, html);
  await rename(partial, request.path);
  const runIds = [
    data.characterization.runId, ...(data.swap ? [data.swap.sft.runId, data.swap.rl.runId] : []), data.ablation.sft.runId, data.ablation.rl.runId,
    data.attentionShift.runId, data.patching.runId, ...data.transferability.runIds, ...(data.necessity?.runIds ?? []),
  ];
  return { path: request.path, data, runIds };
}
