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

/** Where one image's visual tokens sit in the ids. */
export interface VisualSpan {
  start: number;
  length: number;
}

/** Token ids of a prompt and where its visual spans sit. */
export interface BuiltPrompt {
  ids: number[];
  /** the first image's span (the only one in a one-image prompt), or null without an image */
  visualSpan: VisualSpan | null;
  /** every image's span, in order */
  visualSpans: VisualSpan[];
}

/** What {@link buildPrompt} is told about the images. */
export interface PromptOptions {
  tokenizer: PromptTokenizer;
  config: ModelConfig;
  /** one image of the model's fixed size (frankenscope_vl) or none */
  hasImage?: boolean;
  /** the visual-token count of each image, in order (images of their own size); overrides `hasImage` */
  imageTokenCounts?: readonly number[];
}

/**
 * Builds the input ids of `prompt`: every `<image>` marker becomes
 * [vision_start] + n × [image_token] + [vision_end], n being that image's
 * visual-token count; the text between markers is tokenized piece by piece.
 * A single image without a marker goes first.
 * @throws PromptError when the markers do not match the images, an image is
 *   given to a model without a vision tower, or text tokenizes to `image_token_id`
 */
export function buildPrompt(prompt: string, opts: PromptOptions): BuiltPrompt {
  const { tokenizer, config } = opts;
  const counts = opts.imageTokenCounts ?? (opts.hasImage ? [fixedTokenCount(config)] : []);
  // Text that tokenizes to the placeholder id would silently widen a visual span.
  const encode = (text: string): number[] => {
    const out = tokenizer.encode(text);
    if (config.imageTokenId !== null && out.includes(config.imageTokenId)) {
      throw new PromptError(`'prompt' text contains the image placeholder token (id ${config.imageTokenId}); use the '${IMAGE_MARKER}' marker instead`);
    }
    return out;
  };
  const pieces = prompt.split(IMAGE_MARKER);
  const markers = pieces.length - 1;
  const ids: number[] = [];
  if (config.addBosToken && config.bosTokenId !== null) ids.push(config.bosTokenId);
  if (counts.length === 0) {
    if (markers > 0) throw new PromptError(`'prompt' holds ${markers} '${IMAGE_MARKER}' marker${markers > 1 ? 's' : ''} but no image was given`);
    ids.push(...encode(prompt));
    return { ids, visualSpan: null, visualSpans: [] };
  }
  if (!config.vision || config.imageTokenId === null) {
    throw new PromptError(`an image was given but the model (model_type "${config.modelType}") has no vision tower`);
  }
  const texts = markers === 0 && counts.length === 1 ? ['', prompt] : pieces;
  if (texts.length - 1 !== counts.length) {
    throw new PromptError(`'prompt' holds ${markers} '${IMAGE_MARKER}' marker${markers === 1 ? '' : 's'} but ${counts.length} image${counts.length === 1 ? ' was' : 's were'} given; give one marker per image`);
  }
  const spans: VisualSpan[] = [];
  texts.forEach((text, i) => {
    if (text.length > 0) ids.push(...encode(text));
    if (i === counts.length) return;
    if (config.visionStartTokenId !== null) ids.push(config.visionStartTokenId);
    spans.push({ start: ids.length, length: counts[i]! });
    for (let k = 0; k < counts[i]!; k++) ids.push(config.imageTokenId!);
    if (config.visionEndTokenId !== null) ids.push(config.visionEndTokenId);
  });
  return { ids, visualSpan: spans[0] ?? null, visualSpans: spans };
}

function fixedTokenCount(config: ModelConfig): number {
  if (!config.vision) throw new PromptError(`an image was given but the model (model_type "${config.modelType}") has no vision tower`);
  if (!config.vision.fixed) throw new PromptError(`model_type "${config.modelType}" sizes every image on its own: pass the images' visual-token counts`);
  return config.vision.fixed.numVisualTokens;
}
