/**
 * Writes the demo probe sets under data/probes/ (registered at start as
 * demo/pairs and demo/questions):
 * - demo-pairs: the reference pair format, one `counting` task folder of
 *   target/source pictures of coloured squares with different counts;
 * - demo-questions: probes.jsonl with perception and alignment questions
 *   about pictures (with a text description) and text-only reasoning.
 * Deterministic. Until a trained demo model replaces the planted one, the
 * models answer these at chance; the sets exist so every analysis runs.
 *
 *   npx tsx scripts/make-demo-probes.ts [--out data/probes]
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { writeSquaresPng } from '../src/engine/fixtures/index.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PAIRS = 12;
const QUESTIONS = 12;

async function pairs(root: string): Promise<void> {
  const dir = join(root, 'counting');
  await mkdir(join(dir, 'images'), { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const target = 1 + (i % 4);
    const source = 5 + (i % 3);
    await writeSquaresPng(join(dir, `images/pair_${i}_t.png`), target, i);
    await writeSquaresPng(join(dir, `images/pair_${i}_s.png`), source, 100 + i);
    lines.push(JSON.stringify({
      id: `counting_${String(i).padStart(6, '0')}`,
      task: 'counting',
      target_image: `images/pair_${i}_t.png`,
      source_image: `images/pair_${i}_s.png`,
      prompt: '<image>How many squares are there in the image?',
      meta: { target_answer: String(target), source_answer: String(source) },
    }));
  }
  await writeFile(join(dir, 'data.jsonl'), lines.join('\n') + '\n');
}

async function questions(root: string): Promise<void> {
  await mkdir(join(root, 'img'), { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < QUESTIONS; i++) {
    const count = 1 + (i % 6);
    const image = `img/scene_${i}.png`;
    await writeSquaresPng(join(root, image), count, 200 + i);
    const description = `${count} coloured square${count === 1 ? '' : 's'} on a black background.`;
    const prompt = '<image>How many squares are there? Answer with a number.';
    lines.push(JSON.stringify({ id: `perception_${i}`, split: 'perception', task: 'counting', prompt, image, answer: String(count), description }));
    lines.push(JSON.stringify({ id: `alignment_${i}`, split: 'alignment', task: 'counting', prompt, image, answer: String(count), description }));
    const a = 3 + ((i * 7) % 20);
    const b = 2 + ((i * 5) % 13);
    lines.push(JSON.stringify({ id: `reasoning_${i}`, split: 'reasoning', task: 'numeric', prompt: `What is ${a} + ${b}? Answer with a number.`, answer: String(a + b) }));
  }
  await writeFile(join(root, 'probes.jsonl'), lines.join('\n') + '\n');
}

async function main(): Promise<void> {
  const { out } = new Command().option('--out <dir>', 'output folder', join(REPO, 'data', 'probes')).parse().opts<{ out: string }>();
  for (const [name, write] of [['demo-pairs', pairs], ['demo-questions', questions]] as const) {
    const dir = join(resolve(out), name);
    await rm(dir, { recursive: true, force: true });
    await write(dir);
    console.log(`wrote ${dir}`);
  }
}

await main();
