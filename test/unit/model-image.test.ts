import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseModelConfig, type VisionConfig } from '../../src/engine/model/config.js';
import { blackImage, ImageError, loadImage } from '../../src/engine/model/image.js';
import { REFERENCE_DATASET, requireReferenceDataset } from '../helpers/reference-dataset.js';

const DATASET = REFERENCE_DATASET;
const MEAN = [0.48145466, 0.4578275, 0.40821073];
const STD = [0.26862954, 0.26130258, 0.27577711];

/** A vision config whose only role here is its image size and statistics (patch 1, merge 1). */
function visionFor(h: number, w: number, stats: Record<string, unknown> = {}): VisionConfig {
  return parseModelConfig({
    model_type: 'frankenscope_vl', hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 10, image_token_id: 9,
    vision_config: { depth: 1, hidden_size: 4, intermediate_size: 4, num_heads: 1, patch_size: 1, spatial_merge_size: 1, image_size: [h, w], ...stats },
  }).vision!;
}

const norm = (pixel: number, c: number): number => (pixel / 255 - MEAN[c]!) / STD[c]!;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-img-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes raw 8-bit pixels (interleaved) as a PNG and returns its path. */
async function png(name: string, width: number, height: number, channels: 1 | 3 | 4, data: number[]): Promise<string> {
  const file = join(root, name);
  await sharp(Buffer.from(data), { raw: { width, height, channels } }).png().toFile(file);
  return file;
}

describe('loadImage on synthetic PNGs', () => {
  test('downsampling 4x4 -> 2x2 averages with triangle weights 0.75, 0.75, 0.25 (by hand)', async () => {
    // each row is 0, 40, 80, 120 in every channel; rows are equal
    const data: number[] = [];
    for (let y = 0; y < 4; y++) for (const v of [0, 40, 80, 120]) data.push(v, v, v);
    const x = await loadImage(await png('ramp.png', 4, 4, 3, data), visionFor(2, 2));
    expect(x.length).toBe(3 * 2 * 2);
    const left = (0 * 0.75 + 40 * 0.75 + 80 * 0.25) / 1.75; // 28.571...
    const right = (40 * 0.25 + 80 * 0.75 + 120 * 0.75) / 1.75; // 91.428...
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 2; y++) {
        expect(x[c * 4 + y * 2 + 0]).toBeCloseTo(norm(left, c), 5);
        expect(x[c * 4 + y * 2 + 1]).toBeCloseTo(norm(right, c), 5);
      }
    }
  });

  test('upsampling 2x1 -> 4x1 interpolates linearly between pixel centres, clamped at the edges', async () => {
    const x = await loadImage(await png('two.png', 2, 1, 3, [0, 0, 0, 200, 100, 20]), visionFor(1, 4));
    const red = [0, 50, 150, 200];
    const green = [0, 25, 75, 100];
    for (let i = 0; i < 4; i++) {
      expect(x[0 * 4 + i]).toBeCloseTo(norm(red[i]!, 0), 5);
      expect(x[1 * 4 + i]).toBeCloseTo(norm(green[i]!, 1), 5);
    }
  });

  test('aspect ratio is ignored (fill): a 6x2 image becomes 2x2 with channel planes [C, h, w]', async () => {
    const data: number[] = [];
    for (let y = 0; y < 2; y++) for (let xx = 0; xx < 6; xx++) data.push(xx < 3 ? 30 : 210, 60, y === 0 ? 0 : 255);
    const x = await loadImage(await png('wide.png', 6, 2, 3, data), visionFor(2, 2));
    // horizontal scale 3: the triangle spans 3 source pixels each side; weights 2/3, 1, 2/3, 1/3 (sum 8/3)
    expect(x[0]).toBeCloseTo(norm((30 * (7 / 3) + 210 * (1 / 3)) / (8 / 3), 0), 5); // 52.5
    expect(x[1]).toBeCloseTo(norm((210 * (7 / 3) + 30 * (1 / 3)) / (8 / 3), 0), 5); // 187.5
    expect(x[4 + 3]).toBeCloseTo(norm(60, 1), 5); // green everywhere
    expect(x[8 + 0]).toBeCloseTo(norm(0, 2), 5); // blue, row 0
    expect(x[8 + 2]).toBeCloseTo(norm(255, 2), 5); // blue, row 1
  });

  test('alpha is dropped (not composited) and greyscale is expanded to three channels', async () => {
    const rgba = await loadImage(await png('rgba.png', 1, 1, 4, [10, 20, 30, 0]), visionFor(1, 1));
    expect([...rgba].map((v, c) => v * STD[c]! + MEAN[c]!).map((v) => Math.round(v * 255))).toEqual([10, 20, 30]);
    const grey = await loadImage(await png('grey.png', 1, 1, 1, [77]), visionFor(1, 1));
    expect([...grey].map((v, c) => Math.round((v * STD[c]! + MEAN[c]!) * 255))).toEqual([77, 77, 77]);
  });

  test('custom mean/std from the config are used', async () => {
    const v = visionFor(1, 1, { image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.25, 1] });
    const x = await loadImage(await png('std.png', 1, 1, 3, [255, 255, 0]), v);
    expect([...x]).toEqual([1, 2, -0.5]);
  });

  test('a Buffer works like a path', async () => {
    const file = await png('buf.png', 1, 1, 3, [1, 2, 3]);
    const { readFile } = await import('node:fs/promises');
    expect(await loadImage(await readFile(file), visionFor(1, 1))).toEqual(await loadImage(file, visionFor(1, 1)));
  });
});

describe('loadImage errors', () => {
  test('unsupported format, garbage and missing files name the path', async () => {
    const webp = join(root, 'x.webp');
    await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).webp().toFile(webp);
    await expect(loadImage(webp, visionFor(1, 1))).rejects.toThrow(new RegExp(`${webp}.*webp.*only PNG and JPEG`));
    const junk = join(root, 'junk.png');
    await writeFile(junk, 'not an image');
    const err = await loadImage(junk, visionFor(1, 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect((err as ImageError).source).toBe(junk);
    await expect(loadImage(join(root, 'missing.png'), visionFor(1, 1))).rejects.toThrow(/missing\.png/);
  });

  test('a text-only model has no vision config', async () => {
    await expect(loadImage(Buffer.alloc(0), undefined)).rejects.toThrow(TypeError);
    expect(() => blackImage(undefined)).toThrow(TypeError);
  });
});

describe('blackImage', () => {
  test('each channel holds -mean/std', () => {
    const x = blackImage(visionFor(2, 3));
    expect(x.length).toBe(18);
    for (let c = 0; c < 3; c++) for (let i = 0; i < 6; i++) expect(x[c * 6 + i]).toBeCloseTo(-MEAN[c]! / STD[c]!, 6);
  });
});

describe('loadImage on the vision_functionality images', () => {
  test(`a counting JPEG at its own size equals its decoded pixels, normalised`, async () => {
    requireReferenceDataset();
    const file = join(DATASET, 'counting/images/counting_000000_t.jpg');
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(3);
    const x = await loadImage(file, visionFor(info.height, info.width));
    const plane = info.width * info.height;
    for (const i of [0, 1, 1234, plane - 1]) for (let c = 0; c < 3; c++) expect(x[c * plane + i]).toBeCloseTo(norm(data[i * 3 + c]!, c), 5);
  });

  test(`downsampling keeps each channel's mean`, async () => {
    requireReferenceDataset();
    for (const rel of ['counting/images/counting_000000_t.jpg', 'ocr/images/ocr_000000_s.png', 'grounding/images/grounding_000043_t.png']) {
      const file = join(DATASET, rel);
      const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const x = await loadImage(file, visionFor(16, 16));
      for (let c = 0; c < 3; c++) {
        let src = 0;
        for (let i = 0; i < info.width * info.height; i++) src += data[i * info.channels + c]!;
        src /= info.width * info.height;
        let out = 0;
        for (let i = 0; i < 256; i++) out += x[c * 256 + i]!;
        expect(out / 256).toBeCloseTo(norm(src, c), 1);
      }
    }
  });
});
