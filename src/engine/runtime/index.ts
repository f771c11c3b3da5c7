/** Model execution: the hooked runner, weight sources, interventions and the model worker. */
export { type ModelInput, type PreparedBatch } from './batch.js';
export { type BatchLayout, type Hook, type HookContext, type HookFn, type HookPoint, HOOK_POINTS, type Phase, ReadOnlyHookError, type Section } from './hooks.js';
export { attentionMass, type AttentionMassProbe, patchResidual, type PatchResidualOptions, swapVisualKV, zeroAblation } from './interventions.js';
export type { AnalysisFunction, JobContext } from './job-protocol.js';
export type { LayerKV } from './language-model.js';
export { ModelJobError, ModelWorker, type JobOptions, type ModelWorkerOptions } from './model-worker.js';
export { type ModelWeightsOptions } from './model-weights.js';
export { SessionPool, type SessionPoolOptions } from './ort-sessions.js';
export { type CleanRun, HookedRunner, type RunnerOptions, type RunOptions } from './runner.js';
export type { GenerateResult, GenerateTask, LogitsResult, LogitsTask, ScoreInput, ScoreResult, ScoreTask, Task, TaskResult } from './tasks.js';
export type { F32Tensor, Tensor } from './tensor.js';
export { CheckpointWeights, MemoryWeights, type WeightSource } from './weights.js';
