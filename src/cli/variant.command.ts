/**
 * `frankenscope variant --recipe file.yml|file.json`: a merge variant from a
 * mergekit config (.yml / .yaml) or a frankenscope recipe (.json), resolved
 * to its fingerprint, scored on a probe set in every setting it supports
 * (--probes), and/or written as a checkpoint (--export); with neither, it
 * prints the variant (a check of what a config maps to).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import type { AppConfig } from '../config.js';
import { readConfinedFile } from '../engine/fs/confined-files.js';
import { parseMergekitConfig, renameRecipeModels, validateRecipe, type MergeRecipe } from '../engine/merge/index.js';
import { toConditionScores } from '../resolvers/variant.mapping.js';
import { Setting as SettingEnum } from '../schema/variant.type.js';
import { collectGrid, startGrid } from '../services/score-grid.js';
import type { VariantRequest } from '../services/variant-service.js';
import { formatNumber, renderTable } from './format.js';
import { modelId, openCliApp, probeSetId, requestOptions, type AnalysisCliOptions } from './analysis.command.js';

export interface VariantCliOptions extends AnalysisCliOptions {
  recipe: string;
  probes?: string;
  export?: string;
  dtype?: string;
}

/** The recipe file's text, read only inside the model roots or the working directory (as the CLI reads its other inputs). */
async function readRecipe(config: AppConfig, file: string): Promise<{ text: string; kind: 'yaml' | 'json' }> {
  const ext = extname(file).toLowerCase();
  const kind = ext === '.json' ? 'json' : ext === '.yml' || ext === '.yaml' ? 'yaml' : null;
  if (!kind) throw new Error(`--recipe ${file}: expected a mergekit config (.yml, .yaml) or a frankenscope recipe (.json)`);
  const text = (await readConfinedFile(resolve(file), [...config.modelRoots, process.cwd()]).catch((err: Error) => {
    throw new Error(`--recipe ${file}: ${err.message}`);
  })).toString('utf8');
  return { text, kind };
}

/** A model name of the recipe that is not a registered id but a directory is registered on the fly, as --model <dir> is. */
function isDirectory(value: string): boolean {
  return existsSync(value) && statSync(value).isDirectory();
}

export async function variantCommand(config: AppConfig, opts: VariantCliOptions): Promise<void> {
  const dtype = opts.dtype?.toUpperCase();
  if (dtype !== undefined && dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') throw new Error(`--dtype must be F32, F16 or BF16, got '${opts.dtype}'`);
  const { text, kind } = await readRecipe(config, opts.recipe);
  // the model names first (errors name the YAML path or recipe field before any model is opened)
  let names: string[];
  let recipe: MergeRecipe | undefined;
  try {
    if (kind === 'yaml') {
      const draft = parseMergekitConfig(text).recipe;
      names = [draft.base, ...draft.donors];
    } else {
      recipe = validateRecipe(JSON.parse(text));
      names = [recipe.base, ...recipe.donors];
    }
  } catch (err) {
    throw new Error(`--recipe ${opts.recipe}: ${(err as Error).message}`);
  }
  const paths = [...names.filter(isDirectory), ...(opts.probes ? [opts.probes] : []), ...(opts.export ? [dirname(resolve(opts.export))] : [])];
  const app = await openCliApp(config, paths);
  try {
    const ids: Record<string, string> = {};
    for (const name of names) ids[name] = await modelId(app, name);
    const request: VariantRequest = kind === 'yaml' ? { recipeYaml: text, yamlModelIds: ids } : { recipe: renameRecipeModels(recipe!, (id) => ids[id] ?? id) };
    const variant = await app.services.variants.resolve(request);
    for (const note of variant.notes) process.stderr.write(`frankenscope: note: ${note}\n`);
    const out: Record<string, unknown> = { fingerprint: variant.fingerprint, label: variant.label, models: variant.models.map((m) => m.id), notes: variant.notes, recipe: variant.recipe };
    if (opts.export) {
      const row = await app.services.variants.export(variant, resolve(opts.export), { dtype: (dtype as 'F32' | 'F16' | 'BF16' | undefined) ?? variant.dtype ?? 'BF16' });
      out.exported = { id: row.id, path: row.path, dtype: row.dtype };
    }
    if (opts.probes) {
      const probes = await probeSetId(app, opts.probes, opts);
      const jobs = await startGrid(app.services.variants, [{ variant }], probes, requestOptions(opts));
      await Promise.all(jobs.map((j) => j.settled));
      const grid = await collectGrid(app.services.warehouse, app.services.runs, jobs);
      const failed = grid.runs.find((r) => r.status !== 'DONE');
      if (failed) throw new Error(`a scoring run failed: ${failed.error ?? failed.status}`);
      out.scores = grid.done.map((cell) => ({
        setting: cell.setting,
        runId: cell.runId,
        conditions: toConditionScores(cell.effects, cell.setting as SettingEnum).filter((c) => c.task === 'all'),
      }));
    }
    if (opts.json) {
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return;
    }
    process.stdout.write(`variant ${variant.label}\nfingerprint ${variant.fingerprint}\nmodels ${variant.models.map((m) => m.id).join(', ')}\n`);
    const exported = out.exported as { id: string; path: string; dtype: string } | undefined;
    if (exported) process.stdout.write(`exported to ${exported.path} (${exported.dtype}), registered as ${exported.id}\n`);
    const scores = out.scores as { setting: string; conditions: { condition: string; accuracy: number | null; ciLow: number | null; ciHigh: number | null; n: number }[] }[] | undefined;
    if (scores) {
      const rows = scores.flatMap((s) => s.conditions.map((c) => [s.setting, c.condition, c.accuracy === null ? '' : `${formatNumber(c.accuracy)} [${formatNumber(c.ciLow)}, ${formatNumber(c.ciHigh)}]`, c.n]));
      process.stdout.write(renderTable(['setting', 'condition', 'accuracy', 'n'], rows) + '\n');
    }
  } finally {
    await app.close();
  }
}
