/**
 * Materialises a merge recipe as a checkpoint directory inside the model
 * worker (composing and writing tensors is heavy work that must not block
 * the server's event loop).
 */
import { exportVariant, MergedWeights, type ExportResult, type MergeRecipe } from '../merge/index.js';
import type { JobContext } from '../runtime/job-protocol.js';

export interface ExportVariantInput {
  recipe: MergeRecipe;
  dirs: Record<string, string>;
  path: string;
  dtype: 'F32' | 'F16' | 'BF16';
  copyFrom: string;
  /** written as mergekit_config.yml beside the weights */
  mergekitConfig?: string;
}

export async function exportVariantJob(input: ExportVariantInput, context: JobContext): Promise<ExportResult> {
  const weights = await MergedWeights.open(input.recipe, input.dirs);
  try {
    context.progress({ done: 0, total: 1, message: `writing ${input.path}` });
    return await exportVariant(weights, input.path, { dtype: input.dtype, copyFrom: input.copyFrom, metadata: { frankenscope_recipe: JSON.stringify(input.recipe) }, ...(input.mergekitConfig ? { mergekitConfig: input.mergekitConfig } : {}) });
  } finally {
    await weights.close();
  }
}
