/**
 * Questions that need seeing and computing (arithmetic over counts,
 * comparisons, the most frequent colour) and text-only ones (small
 * arithmetic and comparisons). Each carries a worked solution.
 */
import { worked, type Question } from './example.js';
import type { WorldRandom } from './random.js';
import { COLOUR_NAMES, SHAPE_KINDS, countShapes, randomShapeScene, type Canvas, type ColourName } from './scene.js';
import { plural, resample } from './vision-questions.js';

function countWord(n: number, singular: string, many: string): string {
  return `${n} ${n === 1 ? singular : many}`;
}

/** Visual reasoning: one of four templates, resampled until the answer is unique and positive where asked. */
export function reasoningQuestion(rng: WorldRandom, canvas: Canvas): Question {
  const variant = rng.pick(['difference', 'compare', 'most-frequent', 'total'] as const);
  const tags = ['reasoning', variant];
  switch (variant) {
    case 'difference':
      return resample('reasoning difference', () => {
        const scene = randomShapeScene(rng, canvas, { minShapes: 2 });
        const [a, b] = rng.shuffle(SHAPE_KINDS);
        const na = countShapes(scene, { kind: a! });
        const nb = countShapes(scene, { kind: b! });
        if (na <= nb) return null; // 'how many more' is only asked when there are more
        const answer = String(na - nb);
        const thinking = `${countWord(na, a!, plural(a!))}, ${countWord(nb, b!, plural(b!))}: ${na}-${nb}=${answer}`;
        return { task: 'counting', prompt: `<image>How many more ${plural(a!)} than ${plural(b!)} are there in the image?`, answer, scene, solution: worked(thinking, answer), tags };
      });
    case 'compare':
      return resample('reasoning compare', () => {
        const scene = randomShapeScene(rng, canvas, { minShapes: 2 });
        const [a, b] = rng.shuffle(COLOUR_NAMES);
        const na = countShapes(scene, { colour: a! });
        const nb = countShapes(scene, { colour: b! });
        if (na === nb || na + nb === 0) return null; // ties read ambiguously
        const answer = na > nb ? 'yes' : 'no';
        const thinking = `${na} ${a}, ${nb} ${b}: ${na} ${na > nb ? '>' : '<'} ${nb}`;
        return { task: 'recognition', prompt: `<image>Are there more ${a} shapes than ${b} shapes in the image? Answer yes or no.`, answer, scene, solution: worked(thinking, answer), tags };
      });
    case 'most-frequent':
      return resample('reasoning most-frequent', () => {
        const scene = randomShapeScene(rng, canvas, { minShapes: 3 });
        const counts = COLOUR_NAMES.map((colour) => ({ colour, n: countShapes(scene, { colour }) })).filter((c) => c.n > 0);
        const best = Math.max(...counts.map((c) => c.n));
        const winners = counts.filter((c) => c.n === best);
        if (winners.length !== 1 || counts.length < 2) return null;
        const answer: ColourName = winners[0]!.colour;
        const listed = [...counts].sort((p, q) => q.n - p.n || COLOUR_NAMES.indexOf(p.colour) - COLOUR_NAMES.indexOf(q.colour));
        const thinking = `${listed.map((c) => `${c.colour} ${c.n}`).join(', ')}: ${answer} is most frequent`;
        return { task: 'free', prompt: '<image>Which colour appears most often in the image? Answer with the colour name.', answer, scene, solution: worked(thinking, answer), tags };
      });
    case 'total': {
      const scene = randomShapeScene(rng, canvas, { minShapes: 2 });
      const [a, b] = rng.shuffle(COLOUR_NAMES);
      const na = countShapes(scene, { colour: a! });
      const nb = countShapes(scene, { colour: b! });
      const answer = String(na + nb);
      const thinking = `${na} ${a}, ${nb} ${b}: ${na}+${nb}=${answer}`;
      return { task: 'counting', prompt: `<image>How many shapes are ${a} or ${b} in the image?`, answer, scene, solution: worked(thinking, answer), tags };
    }
  }
}

const NAMES = ['Anna', 'Ben', 'Cleo', 'Dev', 'Ema', 'Finn', 'Gus', 'Hana'];
const THINGS = ['apples', 'marbles', 'stickers', 'pencils', 'shells', 'coins'];

/** Text-only: sums, differences, products, comparisons and a short word problem. */
export function textQuestion(rng: WorldRandom): Question {
  const variant = rng.pick(['add', 'subtract', 'multiply', 'larger', 'story'] as const);
  const tags = ['text', variant];
  const numeric = (prompt: string, value: number, thinking: string): Question => ({
    task: 'numeric',
    prompt,
    answer: String(value),
    scene: null,
    solution: worked(thinking, String(value)),
    tags,
  });
  switch (variant) {
    case 'add': {
      const a = rng.int(2, 60);
      const b = rng.int(2, 60);
      return numeric(`What is ${a} + ${b}?`, a + b, `${a}+${b}=${a + b}`);
    }
    case 'subtract': {
      const a = rng.int(10, 90);
      const b = rng.int(1, a - 1);
      return numeric(`What is ${a} - ${b}?`, a - b, `${a}-${b}=${a - b}`);
    }
    case 'multiply': {
      const a = rng.int(2, 12);
      const b = rng.int(2, 12);
      return numeric(`What is ${a} times ${b}?`, a * b, `${a}*${b}=${a * b}`);
    }
    case 'larger': {
      const a = rng.int(1, 99);
      const b = resample('text larger', () => {
        const b = rng.int(1, 99);
        return b === a ? null : b;
      });
      const top = Math.max(a, b);
      return numeric(`Which number is larger, ${a} or ${b}? Answer with the number.`, top, `${top} > ${Math.min(a, b)}`);
    }
    case 'story': {
      const name = rng.pick(NAMES);
      const thing = rng.pick(THINGS);
      const have = rng.int(2, 15);
      const get = rng.int(2, 15);
      const give = rng.int(1, have + get - 1);
      const left = have + get - give;
      return numeric(
        `${name} has ${have} ${thing}, gets ${get} more and gives away ${give}. How many ${thing} does ${name} have now?`,
        left,
        `${have}+${get}=${have + get}, ${have + get}-${give}=${left}`,
      );
    }
  }
}
