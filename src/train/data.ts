/**
 * World examples as training sequences for the jax-js model: prompt ids (with
 * the visual span laid out by `buildPrompt`), then answer ids and end of text;
 * targets are the sequence shifted by one and only the answer and end-of-text
 * targets count. Sequences are right-padded to a few bucket lengths and cut
 * into fixed-size batches because jax-js traces `jit` once per shape.
 */
import { parseModelConfig, type ModelConfig } from '../engine/model/config.js';
import { resizeBilinear } from '../engine/model/image.js';
import { buildPrompt, type PromptTokenizer } from '../engine/model/prompt.js';
import { renderScene, type WorldExample } from '../world/index.js';
import { hfConfig, type TrainConfig } from './config.js';
import { makeBatch, type Batch } from './model.js';

/** `perception`: short answers plus "Describe the image." -> description; `sft`: worked solutions. */
export type DataFormat = 'perception' | 'sft';

/** The prompt of the description task added in the perception format. */
export const DESCRIBE_PROMPT = '<image>Describe the image.';

/** One training sequence before padding. */
export interface Sequence {
  /** the example it came from ('-describe' appended for description rows) */
  id: string;
  /** input ids (the full sequence without its last token) */
  ids: number[];
  /** ids[t + 1] of the full sequence */
  targets: number[];
  /** 1 where the target is an answer or end-of-text token */
  mask: number[];
  /** normalised image [C, h, w], or null without one */
  pixels: Float32Array | null;
}

/** A fixed-shape batch as plain arrays (convert with {@link toBatch}). */
export interface PlainBatch {
  /** the bucket length T */
  length: number;
  ids: number[][];
  targets: number[][];
  mask: number[][];
  /** one per row; all null or all images, so the jitted shapes stay fixed */
  pixels: (Float32Array | null)[];
  /** the sequence ids of the rows */
  rows: string[];
}

/** Options of {@link buildSequences}. */
export interface SequenceOptions {
  format: DataFormat;
  /** ids of text without special tokens; {@link byteTokenizer} for the merge-free tiny tokenizer */
  tokenizer: PromptTokenizer;
  /** end-of-text id appended after the answer (also the padding id) */
  eosTokenId: number;
}

/**
 * Encoder of the tiny tokenizer without merges: its ids are the UTF-8 bytes
 * (the split regex and byte-level mapping change nothing without merges).
 */
export function byteTokenizer(): PromptTokenizer {
  return { encode: (text) => [...Buffer.from(text.normalize('NFC'), 'utf8')] };
}

/** The engine's view of a training config, for `buildPrompt` and the image normalisation. */
export function modelConfigOf(config: TrainConfig): ModelConfig {
  return parseModelConfig(hfConfig(config));
}

/**
 * Normalised pixels [C, h, w] of an RGB image for the model: bilinear resize
 * to the model's image size when it differs (as `loadImage` does), then
 * (pixel/255 − mean[c]) / std[c] (docs/model.md, "Image preprocessing").
 */
export function normalisePixels(image: { width: number; height: number; data: Uint8Array }, model: ModelConfig): Float32Array {
  const v = model.vision;
  if (v === undefined) throw new RangeError(`the model (model_type "${model.modelType}") has no vision tower to take an image`);
  if (v.fixed === null) throw new RangeError(`the trainer builds fixed-size models; model_type "${model.modelType}" sizes every image on its own`);
  const { imageSize: [h, w], imageMean, imageStd } = v.fixed;
  const src = image.width === w && image.height === h ? image.data : resizeBilinear(image.data, image.height, image.width, 3, h, w);
  const out = new Float32Array(3 * h * w);
  for (let ch = 0; ch < 3; ch++) {
    for (let i = 0; i < h * w; i++) out[ch * h * w + i] = (src[i * 3 + ch]! / 255 - imageMean[ch]!) / imageStd[ch]!;
  }
  return out;
}

/** The answer text of an example: short answers as they are, boxes as '[x1, y1, x2, y2]'. */
export function answerText(e: WorldExample): string {
  return typeof e.answer === 'string' ? e.answer : `[${e.answer.join(', ')}]`;
}

function sequence(id: string, prompt: string, answer: string, pixels: Float32Array | null, model: ModelConfig, o: SequenceOptions): Sequence {
  const built = buildPrompt(prompt, { tokenizer: o.tokenizer, config: model, hasImage: pixels !== null });
  const answerIds = o.tokenizer.encode(answer);
  if (answerIds.length === 0) throw new RangeError(`example '${id}' has an empty answer`);
  const full = [...built.ids, ...answerIds, o.eosTokenId];
  const n = full.length - 1;
  // target t is full[t + 1]; it is an answer (or eos) token from position prompt.length - 1 on
  const first = built.ids.length - 1;
  return {
    id,
    ids: full.slice(0, n),
    targets: full.slice(1),
    mask: Array.from({ length: n }, (_, t) => (t >= first ? 1 : 0)),
    pixels,
  };
}

/**
 * Training sequences of `examples`. `perception` uses every example's short
 * answer and adds one description row per example with a scene; `sft` uses
 * only examples with a worked solution. Images need a vision config whose
 * `imageSize` the scene is resized to.
 */
export function buildSequences(examples: readonly WorldExample[], config: TrainConfig, options: SequenceOptions): Sequence[] {
  const model = modelConfigOf(config);
  const out: Sequence[] = [];
  for (const e of examples) {
    const pixels = e.scene === null ? null : normalisePixels(renderScene(e.scene), model);
    if (options.format === 'sft') {
      if (e.solution !== null) out.push(sequence(e.id, e.prompt, e.solution, pixels, model, options));
      continue;
    }
    out.push(sequence(e.id, e.prompt, answerText(e), pixels, model, options));
    if (pixels !== null && e.description !== null) out.push(sequence(`${e.id}-describe`, DESCRIBE_PROMPT, e.description, pixels, model, options));
  }
  return out;
}

/** Options of {@link makeBatches}. */
export interface BatchOptions {
  /** rows per batch (fixed; short groups are filled by repeating their own rows) */
  batchSize: number;
  /** allowed padded lengths, e.g. [48, 64, 96]; longer sequences are dropped */
  buckets: readonly number[];
  /** shuffle seed (same seed, same batches) */
  seed: number;
  /** end-of-text id used for padding */
  padId: number;
}

/** mulberry32: a small seeded generator, so shuffles do not depend on Math.random. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], next: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * Groups sequences by (bucket length, has image), shuffles each group and the
 * batch order by `seed`, and right-pads every row to its bucket (padding: id
 * `padId`, target `padId`, mask 0). Returns the batches and how many sequences
 * were longer than the largest bucket.
 */
export function makeBatches(sequences: readonly Sequence[], options: BatchOptions): { batches: PlainBatch[]; dropped: number } {
  const { batchSize, padId } = options;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`'batchSize' must be a positive integer, got ${batchSize}`);
  const buckets = [...options.buckets].sort((a, b) => a - b);
  if (buckets.length === 0 || buckets.some((b) => !Number.isInteger(b) || b <= 0)) {
    throw new RangeError(`'buckets' must be positive integers, got [${options.buckets}]`);
  }
  const next = rng(options.seed);
  const groups = new Map<string, { length: number; rows: Sequence[] }>();
  let dropped = 0;
  for (const s of sequences) {
    const length = buckets.find((b) => b >= s.ids.length);
    if (length === undefined) {
      dropped++;
      continue;
    }
    const key = `${length}:${s.pixels !== null}`;
    if (!groups.has(key)) groups.set(key, { length, rows: [] });
    groups.get(key)!.rows.push(s);
  }
  const batches: PlainBatch[] = [];
  for (const key of [...groups.keys()].sort()) {
    const { length, rows } = groups.get(key)!;
    shuffle(rows, next);
    for (let i = 0; i < rows.length; i += batchSize) {
      const picked = Array.from({ length: batchSize }, (_, k) => rows[(i + k) % rows.length]!);
      const pad = (r: number[], v: number): number[] => [...r, ...new Array<number>(length - r.length).fill(v)];
      batches.push({
        length,
        ids: picked.map((s) => pad(s.ids, padId)),
        targets: picked.map((s) => pad(s.targets, padId)),
        mask: picked.map((s) => pad(s.mask, 0)),
        pixels: picked.map((s) => s.pixels),
        rows: picked.map((s) => s.id),
      });
    }
  }
  return { batches: shuffle(batches, next), dropped };
}

/** The jax-js {@link Batch} of a plain batch (dispose it with `disposeBatch`). */
export function toBatch(b: PlainBatch, config: TrainConfig): Batch {
  return makeBatch(b.ids, b.targets, b.mask, config, b.pixels.some((p) => p !== null) ? b.pixels : undefined);
}
