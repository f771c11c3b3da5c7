/** Frankenstein variants: merge recipes, their lazy composition as a WeightSource, fingerprints and export. */
export { ModelMismatchError, type MismatchKind, RecipeError } from './errors.js';
export { COPIED_FILES, exportVariant, type ExportOptions, type ExportResult } from './export.js';
export { canonicalRecipe, RECIPE_FINGERPRINT_VERSION, recipeFingerprint, type RecipeFingerprintOptions } from './fingerprint.js';
export { MERGEKIT_CONFIG_FILE, MERGEKIT_METHODS, MergekitConfigError, type MergekitExport, type MergekitParseOptions, type MergekitParseResult, parseMergekitConfig, renameRecipeModels, toMergekitConfig } from './mergekit.js';
export { MergedWeights, type MergedWeightsOptions, type TensorPlan } from './merged-weights.js';
export { combineTaskVectors, type CombineOptions, dareUniform, lerp, linearCombination, magnitudeTrim, randomDrop, slerp, taskVector, TrimThreshold } from './methods.js';
export { covers, evaluateGradient, evaluateParam, gradientPosition, type ResolvedModel, type ResolvedOperation, resolveOperation } from './plan.js';
export { defaultLayerCuts, presetRecipe, type PresetOptions, SPLICE_PRESETS, type SplicePreset } from './presets.js';
export {
  type Component,
  type ConditionalValue,
  DEFAULT_DOT_THRESHOLD,
  DEFAULT_NORMALIZE,
  type DareOp,
  type Gradient,
  type InterpolateOp,
  type LayerRange,
  type LinearOp,
  type MergeOperation,
  type MergeRecipe,
  type ModelId,
  OPERATION_KINDS,
  type OperationKind,
  type Param,
  type Scope,
  type SlerpOp,
  type SparseModel,
  type SpliceOp,
  type TaskArithmeticOp,
  type TiesOp,
  validateRecipe,
  type WeightedModel,
} from './recipe.js';
export { classifyTensor, type LayerComponent, type TensorSite } from './tensor-names.js';
