/**
 * Loads every tensor of a checkpoint directory for the reference forward pass.
 */
import { Checkpoint } from '../../src/engine/checkpoint/index.js';
import { parseModelConfig, type ModelConfig } from '../../src/engine/model/config.js';

/** Every tensor of the checkpoint at `dir` as float32, with its parsed config. */
export async function loadReferenceModel(dir: string): Promise<{ config: ModelConfig; weights: Map<string, Float32Array> }> {
  const ckpt = await Checkpoint.open(dir);
  try {
    const weights = new Map<string, Float32Array>();
    for (const name of ckpt.tensors.keys()) weights.set(name, await ckpt.readFloat32(name));
    return { config: parseModelConfig(ckpt.config), weights };
  } finally {
    await ckpt.close();
  }
}
