/**
 * Turning probe examples into model inputs: the prompt with its visual span
 * (docs/model.md), the preprocessed image (cached by path) and gold answer ids.
 */
import { renderChatPrompt, type ChatTemplate } from '../model/chat.js';
import { buildPrompt } from '../model/prompt.js';
import { blackVisionImage, loadVisionImage, loadVisionImageAt } from '../model/vision-images.js';
import { visualTokenCount, type VisionImage } from '../model/vision-input.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import type { ModelConfig } from '../model/config.js';
import type { ProbeAnswer } from '../probes/types.js';
import type { ModelInput } from '../runtime/batch.js';
import type { ResolvedExample } from './types.js';

/** Which picture goes with the prompt. */
/** 'posed': the example's own image when it has one, else none (a question as it was asked). */
export type ImageChoice = 'target' | 'source' | 'black' | 'none' | 'posed';

/** Thrown when a probe set does not fit the analysis (e.g. no pairs for a swap). */
export class AnalysisInputError extends Error {
  override readonly name = 'AnalysisInputError';
}

/** Gold answers as the text a model would write (a box as 'x1,y1,x2,y2'). */
export function answerText(answer: ProbeAnswer): string {
  return typeof answer === 'string' ? answer : answer.join(',');
}

/** Builds inputs for one model; images are decoded once per path. */
export class InputBuilder {
  readonly #images = new Map<string, Promise<VisionImage>>();

  constructor(
    private readonly config: ModelConfig,
    private readonly tokenizer: TextTokenizer,
    /** wrap prompts in this chat template (as one user turn), or leave them as they are */
    private readonly chat: ChatTemplate | null = null,
  ) {}

  #image(path: string): Promise<VisionImage> {
    let p = this.#images.get(path);
    if (!p) {
      p = loadVisionImage(path, this.config);
      this.#images.set(path, p);
    }
    return p;
  }

  #imageAt(path: string, like: VisionImage): Promise<VisionImage> {
    const key = `${path}\u0000${like.grid.t}x${like.grid.h}x${like.grid.w}`;
    let p = this.#images.get(key);
    if (!p) {
      p = loadVisionImageAt(path, like.grid, this.config);
      this.#images.set(key, p);
    }
    return p;
  }

  /** The prompt of `example` with the chosen image (and, optionally, text before the question). */
  async input(example: ResolvedExample, choice: ImageChoice, prefixText = ''): Promise<ModelInput & { visualSpan: { start: number; length: number } | null }> {
    const image: Exclude<ImageChoice, 'posed'> = choice === 'posed' ? (example.targetImagePath ? 'target' : 'none') : choice;
    if ((image === 'target' || image === 'source' || image === 'black') && !this.config.vision) {
      throw new AnalysisInputError(`example '${example.id}' needs an image but the model is text-only`);
    }
    let picture: VisionImage | undefined;
    if (image === 'target' || image === 'source') {
      const path = image === 'target' ? example.targetImagePath : example.sourceImagePath;
      if (!path) throw new AnalysisInputError(`example '${example.id}' has no ${image} image`);
      // a source is swapped into its target, so it takes the target's grid (docs/engine.md, "Pairs of unequal images")
      const target = image === 'source' && !this.config.vision?.fixed && example.targetImagePath ? await this.#image(example.targetImagePath) : undefined;
      picture = target ? await this.#imageAt(path, target) : await this.#image(path);
    } else if (image === 'black') {
      // images of their own size keep the target's processed size, so the prompt keeps its visual-token count
      const like = this.config.vision?.fixed || !example.targetImagePath ? undefined : await this.#image(example.targetImagePath);
      picture = blackVisionImage(this.config, like);
    }
    const prompt = prefixText ? withPrefix(example.prompt, prefixText, picture !== undefined) : example.prompt;
    const counts = picture ? [visualTokenCount(picture.grid, this.config.vision!.spatialMergeSize)] : [];
    const posed = image === 'none' ? prompt.replace('<image>', '') : prompt;
    const text = this.chat ? renderChatPrompt(posed, counts.length, this.chat, this.config, this.tokenizer) : posed;
    const built = buildPrompt(text, { tokenizer: this.tokenizer, config: this.config, imageTokenCounts: counts });
    return { inputIds: built.ids, ...(picture ? { images: [picture] } : {}), visualSpan: built.visualSpan };
  }

  /** Token ids of a gold answer (for teacher-forced scoring). */
  answerIds(answer: ProbeAnswer): number[] {
    const ids = this.tokenizer.encode(answerText(answer));
    if (ids.length === 0) throw new AnalysisInputError(`gold answer ${JSON.stringify(answer)} tokenizes to nothing`);
    return ids;
  }

  /** Generated ids as text, special tokens dropped. */
  decode(ids: readonly number[]): string {
    return this.tokenizer.decode(ids, { skipSpecialTokens: true });
  }
}

/** Inserts text right after the image marker (or before the question when the image comes first). */
function withPrefix(prompt: string, prefix: string, hasImage: boolean): string {
  if (hasImage && prompt.includes('<image>')) return prompt.replace('<image>', `<image>${prefix}`);
  if (hasImage) return `<image>${prefix}${prompt}`;
  return `${prefix}${prompt}`;
}

/** Splits a list into consecutive chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
