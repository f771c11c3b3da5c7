/**
 * Token layout of a prompt (docs/model.md, "Prompt and token layout"): the
 * text around the `<image>` marker is tokenized piecewise and the marker
 * becomes [vision_start] + n_v × [image_token] + [vision_end].
 */
import type { ModelConfig } from './config.js';

/** The text marker that stands for the image. */
export const IMAGE_MARKER = '<image>';

/** A prompt that does not fit the model or the image (marker without image, several markers, ...). */
export class PromptError extends Error {
  override readonly name = 'PromptError';
}

/** What {@link buildPrompt} needs from a tokenizer. */
export interface PromptTokenizer {
  /** ids of `text`, no special tokens added */
  encode(text: string): number[];
}

/** Token ids of a prompt and where its visual span sits. */
export interface BuiltPrompt {
  ids: number[];
  /** the n_v positions holding `image_token_id`, or null without an image */
  visualSpan: { start: number; length: number } | null;
}

/**
 * Builds the input ids of `prompt`. With an image and no marker the image goes first.
 * @throws PromptError when the prompt holds more than one marker, a marker but no image,
 *   an image for a model without a vision tower, or text that tokenizes to `image_token_id`
 */
export function buildPrompt(prompt: string, opts: { tokenizer: PromptTokenizer; config: ModelConfig; hasImage: boolean }): BuiltPrompt {
  const { tokenizer, config, hasImage } = opts;
  // Text that tokenizes to the placeholder id would silently widen the visual span.
  const encode = (text: string): number[] => {
    const out = tokenizer.encode(text);
    if (config.imageTokenId !== null && out.includes(config.imageTokenId)) {
      throw new PromptError(`'prompt' text contains the image placeholder token (id ${config.imageTokenId}); use the '${IMAGE_MARKER}' marker instead`);
    }
    return out;
  };
  const pieces = prompt.split(IMAGE_MARKER);
  if (pieces.length > 2) throw new PromptError(`'prompt' holds ${pieces.length - 1} '${IMAGE_MARKER}' markers; at most one is allowed`);
  const ids: number[] = [];
  if (config.addBosToken && config.bosTokenId !== null) ids.push(config.bosTokenId);
  if (!hasImage) {
    if (pieces.length === 2) throw new PromptError(`'prompt' holds an '${IMAGE_MARKER}' marker but no image was given`);
    ids.push(...encode(prompt));
    return { ids, visualSpan: null };
  }
  if (!config.vision || config.imageTokenId === null) {
    throw new PromptError(`an image was given but the model (model_type "${config.modelType}") has no vision tower`);
  }
  const [before, after] = pieces.length === 2 ? [pieces[0]!, pieces[1]!] : ['', prompt];
  if (before.length > 0) ids.push(...encode(before));
  if (config.visionStartTokenId !== null) ids.push(config.visionStartTokenId);
  const start = ids.length;
  const length = config.vision.numVisualTokens;
  for (let i = 0; i < length; i++) ids.push(config.imageTokenId);
  if (config.visionEndTokenId !== null) ids.push(config.visionEndTokenId);
  if (after.length > 0) ids.push(...encode(after));
  return { ids, visualSpan: { start, length } };
}
