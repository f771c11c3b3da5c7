/**
 * Export of trained parameters: Float32 copies by tensor name, and a complete
 * checkpoint directory (config.json, model.safetensors, tokenizer files) the
 * ONNX engine opens.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { numpy as np } from '@jax-js/jax';
import { Checkpoint, writeSafetensors, type StorableDtype } from '../engine/checkpoint/index.js';
import { hfConfig, paramShapes, type TrainConfig } from './config.js';
import type { Params } from './model.js';

/** tokenizer.json and tokenizer_config.json contents, as `tinyTokenizerFiles` returns them. */
export interface TokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfigJson: Record<string, unknown>;
}

/** Float32 copies of every parameter, sorted by name. Does not consume `params`. */
export async function exportParams(params: Params): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const name of Object.keys(params).sort()) {
    const data = await params[name]!.ref.data();
    if (!(data instanceof Float32Array)) throw new TypeError(`parameter '${name}' is not float32`);
    out.set(name, data);
  }
  return out;
}

/**
 * Writes `dir` (created if needed): config.json (`qwen2`), model.safetensors
 * (F32, or `dtype` rounded to nearest even) and the tokenizer files. Every
 * tensor of the config must be present with its docs/model.md shape, and no
 * other. Does not consume `params`.
 */
export async function writeCheckpoint(dir: string, params: Params, config: TrainConfig, tokenizer: TokenizerFiles, dtype: StorableDtype = 'F32'): Promise<void> {
  const shapes = paramShapes(config);
  for (const name of Object.keys(params)) {
    if (!shapes.has(name)) throw new RangeError(`parameter '${name}' is not a tensor of this config`);
  }
  for (const [name, shape] of shapes) {
    const a = params[name];
    if (a === undefined) throw new RangeError(`parameter '${name}' is missing`);
    if (a.shape.join(',') !== shape.join(',')) throw new RangeError(`parameter '${name}' has shape [${a.shape}], expected [${shape}]`);
  }
  const data = await exportParams(params);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(hfConfig(config), null, 2)}\n`);
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer.tokenizerJson));
  await writeFile(join(dir, 'tokenizer_config.json'), `${JSON.stringify(tokenizer.tokenizerConfigJson, null, 2)}\n`);
  const list = [...shapes].map(([name, shape]) => ({ name, dtype, shape, data: data.get(name)! }));
  await writeSafetensors(join(dir, 'model.safetensors'), list, { format: 'pt' });
}

/**
 * Parameters of a checkpoint directory as jax-js arrays (float32, whatever
 * the stored dtype), for every tensor of `config`.
 * @throws RangeError when a tensor is missing or has another shape
 */
export async function readCheckpointParams(dir: string, config: TrainConfig): Promise<Params> {
  const checkpoint = await Checkpoint.open(dir);
  try {
    const params: Params = {};
    for (const [name, shape] of paramShapes(config)) {
      const info = checkpoint.tensors.get(name);
      if (info === undefined) throw new RangeError(`checkpoint '${dir}' has no tensor '${name}'`);
      if (info.shape.join(',') !== shape.join(',')) throw new RangeError(`tensor '${name}' of '${dir}' is [${info.shape}], expected [${shape}]`);
      params[name] = np.array(await checkpoint.readFloat32(name)).reshape(shape);
    }
    return params;
  } finally {
    await checkpoint.close();
  }
}
