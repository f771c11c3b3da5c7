/**
 * Text-only Qwen2 / Qwen2.5 (`model_type: "qwen2"`, Qwen2ForCausalLM): the
 * language-model keys at the top level (or in `text_config`), 1-D RoPE.
 */
import { isObject, ModelConfigError, parseTextModel, Reader, requireActivation, type Json } from '../../config-reader.js';
import type { ModelConfig } from '../../config.js';

/** The Reader over the language-model keys: `text_config` when present, then the top level. */
export function textReader(json: Json): Reader {
  const text = json.text_config;
  if (text !== undefined && text !== null && !isObject(text)) throw new ModelConfigError('text_config', `config.json: 'text_config' must be an object`);
  return new Reader(isObject(text) ? [text, json] : [json], '');
}

/** Only plain RoPE: scaled variants change the angles in ways not built here. */
function checkPlainRope(r: Reader): void {
  const rs = r.raw('rope_scaling');
  if (rs === undefined) return;
  const ok = isObject(rs) && Object.keys(rs).length > 0 && Object.entries(rs).every(([k, v]) => (k === 'type' || k === 'rope_type') && v === 'default');
  if (!ok) {
    throw new ModelConfigError(r.name('rope_scaling'), `config.json: '${r.name('rope_scaling')}' is ${JSON.stringify(rs)}; only absent, null or {"type": "default"} is supported (scaled RoPE is not built)`);
  }
}

/** The Qwen2 language model of `qwen2` and `frankenscope_vl`, without vision keys. */
export function parseQwen2Text(json: Json): ModelConfig {
  const r = textReader(json);
  requireActivation(r, 'silu', 'silu');
  checkPlainRope(r);
  const text = parseTextModel(r, { rmsNormEps: 1e-6 });
  return {
    modelType: 'qwen2',
    ...text,
    ropeTheta: r.positive('rope_theta', 10000),
    mropeSection: null,
    imageTokenId: null, visionStartTokenId: null, visionEndTokenId: null,
  };
}

export function parseQwen2Config(json: Json): ModelConfig {
  return parseQwen2Text(json);
}
