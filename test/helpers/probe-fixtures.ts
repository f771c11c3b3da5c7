/** Small probe sets written for tests: coloured-square PNGs, reference pairs and probes.jsonl. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSquaresPng as squaresPng } from '../../src/engine/fixtures/probe-images.js';

/**
 * A reference-format root with one `counting` task of `n` pairs; with
 * `sameSource`, each pair's source image is the target image itself.
 */
export async function writeCountingPairs(root: string, n: number, options: { sameSource?: boolean } = {}): Promise<void> {
  const dir = join(root, 'counting');
  await mkdir(join(dir, 'images'), { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = `images/c${i}_t.png`;
    const s = options.sameSource ? t : `images/c${i}_s.png`;
    await squaresPng(join(dir, t), 1 + (i % 4), i);
    if (!options.sameSource) await squaresPng(join(dir, s), 5 + (i % 3), i + 50);
    lines.push(JSON.stringify({
      id: `counting_${String(i).padStart(6, '0')}`, task: 'counting', target_image: t, source_image: s,
      prompt: '<image>How many items are there in the image?',
      meta: { target_answer: String(1 + (i % 4)), source_answer: options.sameSource ? String(1 + (i % 4)) : String(5 + (i % 3)) },
    }));
  }
  await writeFile(join(dir, 'data.jsonl'), lines.join('\n') + '\n');
}

/** A probes.jsonl folder of free-form questions with the given gold answers (some with an image). */
export async function writeJsonlProbes(root: string, items: { id: string; prompt: string; answer: string; image?: boolean; split?: string }[]): Promise<void> {
  await mkdir(join(root, 'img'), { recursive: true });
  const lines: string[] = [];
  for (const [i, item] of items.entries()) {
    let image: string | null = null;
    if (item.image) {
      image = `img/q${i}.png`;
      await squaresPng(join(root, image), 2 + (i % 3), i + 7);
    }
    lines.push(JSON.stringify({ id: item.id, split: item.split ?? 'reasoning', task: 'free', prompt: item.prompt, image, answer: item.answer }));
  }
  await writeFile(join(root, 'probes.jsonl'), lines.join('\n') + '\n');
}
