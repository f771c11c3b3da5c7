/**
 * Writes the world as probe sets: reference-format pair folders for the four
 * vision tasks and one probes.jsonl with the perception, alignment,
 * reasoning and text splits (docs/probe-sets.md, docs/world.md).
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VISION_KINDS, type QuestionKind, type WorldExample } from './example.js';
import { generateWorld } from './generate.js';
import { PAIR_TASKS, generatePair } from './pairs.js';
import { encodePng } from './png.js';
import { renderScene } from './raster.js';
import { resolveCanvas, type CanvasOptions, type Scene } from './scene.js';

/** Options of writeProbeSets. */
export interface ProbeSetOptions extends CanvasOptions {
  /** probe seed [0]; training data uses another stream of any seed (trainingExamples) */
  seed?: number;
  /** pairs per reference task [20] */
  pairsPerTask?: number;
  /** probes.jsonl questions per kind [20 for each vision kind, 40 reasoning, 40 text] */
  counts?: Partial<Record<QuestionKind, number>>;
  /** replace existing pairs/ and probes/ folders under dir [false: refuse] */
  overwrite?: boolean;
}

/** What writeProbeSets wrote. */
export interface WrittenProbeSets {
  /** reference pair root (task subfolders); load with loadProbeSet */
  pairsRoot: string;
  /** folder holding probes.jsonl; load with loadProbeSet */
  probesRoot: string;
  pairs: number;
  probes: number;
  images: number;
}

const DEFAULT_COUNTS: Record<QuestionKind, number> = {
  counting: 20,
  ocr: 20,
  grounding_cell: 20,
  grounding_box: 20,
  recognition: 20,
  reasoning: 40,
  text: 40,
};

async function writeScene(path: string, scene: Scene): Promise<void> {
  await writeFile(path, await encodePng(renderScene(scene)));
}

async function prepare(folder: string, overwrite: boolean): Promise<void> {
  const existing = await readdir(folder).catch(() => null);
  if (existing !== null && existing.length > 0) {
    if (!overwrite) throw new Error(`writeProbeSets: '${folder}' exists and is not empty; pass overwrite: true to replace it`);
    await rm(folder, { recursive: true });
  }
  await mkdir(join(folder, 'images'), { recursive: true });
}

function jsonl(rows: readonly object[]): string {
  return rows.map((row) => JSON.stringify(row)).join('\n') + '\n';
}

/** The probes.jsonl rows of one example: its split(s), sharing one image file. */
function probeRows(example: WorldExample, image: string | null, size: number): object[] {
  const meta: Record<string, unknown> = { kind: example.kind };
  if (example.solution !== null) meta.solution = example.solution;
  if (example.kind === 'grounding_box') meta.canvas_size = [size, size];
  const row = (split: string): object => ({
    id: `${split}-${example.id}`,
    split,
    task: example.task,
    prompt: example.prompt,
    ...(image === null ? {} : { image }),
    answer: example.answer,
    ...(example.description === null ? {} : { description: example.description }),
    tags: example.tags,
    meta,
  });
  if (VISION_KINDS.includes(example.kind)) return [row('perception'), row('alignment')];
  return [row(example.kind === 'text' ? 'text' : 'reasoning')];
}

/**
 * Writes `dir/pairs/<task>/data.jsonl` (+ images) for counting, ocr,
 * grounding and recognition, and `dir/probes/probes.jsonl` (+ images).
 * Deterministic: same options, same bytes.
 * @throws Error when a target folder is not empty and overwrite is not set
 */
export async function writeProbeSets(dir: string, options: ProbeSetOptions = {}): Promise<WrittenProbeSets> {
  const canvas = resolveCanvas(options);
  const seed = options.seed ?? 0;
  const pairsPerTask = options.pairsPerTask ?? 20;
  if (!Number.isInteger(pairsPerTask) || pairsPerTask < 1) throw new RangeError(`'pairsPerTask' must be a positive integer, got ${pairsPerTask}`);
  const pairsRoot = join(dir, 'pairs');
  const probesRoot = join(dir, 'probes');
  let images = 0;

  for (const task of PAIR_TASKS) {
    const folder = join(pairsRoot, task);
    await prepare(folder, options.overwrite ?? false);
    const rows: object[] = [];
    for (let i = 0; i < pairsPerTask; i++) {
      const pair = generatePair(task, i, seed, canvas);
      const targetImage = `images/${pair.id}_t.png`;
      const sourceImage = `images/${pair.id}_s.png`;
      await writeScene(join(folder, targetImage), pair.target);
      await writeScene(join(folder, sourceImage), pair.source);
      images += 2;
      rows.push({ id: pair.id, task, target_image: targetImage, source_image: sourceImage, prompt: pair.prompt, meta: pair.meta });
    }
    await writeFile(join(folder, 'data.jsonl'), jsonl(rows));
  }

  await prepare(probesRoot, options.overwrite ?? false);
  const examples = generateWorld({ seed, size: canvas.size, grid: canvas.grid, counts: { ...DEFAULT_COUNTS, ...options.counts } });
  const rows: object[] = [];
  for (const example of examples) {
    let image: string | null = null;
    if (example.scene !== null) {
      image = `images/${example.id}.png`;
      await writeScene(join(probesRoot, image), example.scene);
      images += 1;
    }
    rows.push(...probeRows(example, image, canvas.size));
  }
  await writeFile(join(probesRoot, 'probes.jsonl'), jsonl(rows));
  return { pairsRoot, probesRoot, pairs: pairsPerTask * PAIR_TASKS.length, probes: rows.length, images };
}
