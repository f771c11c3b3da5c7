/**
 * Where a tensor sits in the model (docs/model.md tensor names): inside a
 * decoder layer, and which sub-block, or outside the decoder layers.
 */

/** A decoder-layer sub-block. The norm in front of each sub-block belongs to it, as in the engine's piece bundles. */
export type LayerComponent = 'attention' | 'mlp' | 'other';

/** A tensor's place: decoder layer `layer` and sub-block, or outside (`pre`: vision, projector, embeddings; `post`: final norm, head). */
export type TensorSite =
  | { kind: 'layer'; layer: number; component: LayerComponent }
  | { kind: 'outside'; position: 'pre' | 'post' };

const LAYER = /^model\.layers\.(\d+)\.(.+)$/;

/** Classifies a tensor name. */
export function classifyTensor(name: string): TensorSite {
  const m = LAYER.exec(name);
  if (m) {
    const rest = m[2]!;
    let component: LayerComponent = 'other';
    if (rest.startsWith('self_attn.') || rest.startsWith('input_layernorm.')) component = 'attention';
    else if (rest.startsWith('mlp.') || rest.startsWith('post_attention_layernorm.')) component = 'mlp';
    return { kind: 'layer', layer: Number(m[1]), component };
  }
  const post = name.startsWith('model.norm.') || name.startsWith('lm_head.');
  return { kind: 'outside', position: post ? 'post' : 'pre' };
}
