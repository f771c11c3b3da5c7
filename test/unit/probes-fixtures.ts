/**
 * Small probe folders written to a temporary directory: a reference-format
 * root with two tasks, and a probes.jsonl of our own format.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Runs `body` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'frankenscope-probes-'));
  try {
    return await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `content` at `root/relative`, creating folders. */
export function put(root: string, relative: string, content: string | Uint8Array): void {
  const file = join(root, relative);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/** JSONL text of the given objects. */
export function jsonl(lines: readonly unknown[]): string {
  return lines.map((line) => JSON.stringify(line)).join('\n') + '\n';
}

/** A reference-format line (counting unless overridden). */
export function pairLine(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    task: 'counting',
    target_image: `images/${id}_t.png`,
    source_image: `images/${id}_s.png`,
    prompt: '<image>How many items are there in the image?',
    meta: { target_answer: '3', source_answer: '7' },
    ...overrides,
  };
}

/**
 * A reference root with counting (c0, c1) and grounding (g0) pairs; every
 * image holds distinct bytes. Returns the root.
 */
export function writeReferenceRoot(root: string): string {
  put(root, 'counting/data.jsonl', jsonl([pairLine('c0'), pairLine('c1', { meta: { target_answer: '4', source_answer: '9' } })]));
  put(
    root,
    'grounding/data.jsonl',
    jsonl([
      pairLine('g0', {
        task: 'grounding',
        prompt: 'Locate the object: red circle. Return bounding box as x1,y1,x2,y2.',
        meta: { target_bbox_xyxy: [1, 2, 30, 40], source_bbox_xyxy: [5, 5, 9, 9], iou_threshold: 0.5 },
      }),
    ]),
  );
  for (const [task, ids] of [['counting', ['c0', 'c1']], ['grounding', ['g0']]] as const) {
    for (const id of ids) {
      put(root, `${task}/images/${id}_t.png`, `target bytes of ${id}`);
      put(root, `${task}/images/${id}_s.png`, `source bytes of ${id}`);
    }
  }
  put(root, 'LICENSE', 'not a task');
  return root;
}

/** A probes.jsonl with an image question, a text-only question and an alignment question. */
export function writeJsonlSet(root: string): string {
  put(
    root,
    'probes.jsonl',
    jsonl([
      { id: 'p1', split: 'perception', task: 'counting', prompt: '<image>How many squares?', image: 'img/a.png', answer: 4 },
      { id: 'r1', split: 'reasoning', task: 'numeric', prompt: 'What is 12 + 30?', answer: '42', tags: ['arith'] },
      {
        id: 'a1',
        split: 'alignment',
        prompt: 'What shape is shown?',
        image: 'img/b.png',
        answer: 'circle',
        description: 'A red circle on a white background.',
        meta: { source: 'demo' },
      },
      { id: 'g1', split: 'perception', task: 'grounding', prompt: 'Where is the circle?', image: 'img/b.png', answer: [1, 2, 3, 4] },
    ]),
  );
  put(root, 'img/a.png', 'image a');
  put(root, 'img/b.png', 'image b');
  return root;
}
