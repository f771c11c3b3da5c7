import { describe, expect, it } from 'vitest';
import { normalizeAnswer, scoreAnswer } from '../../src/engine/scoring/index.js';
import { COLOUR_NAMES, generateWorld, renderScene, trainingExamples, type WorldExample } from '../../src/world/index.js';
import { decodeShapes, type DecodedShape } from './world-decode.js';

const world = generateWorld({
  seed: 7,
  counts: { counting: 60, ocr: 10, grounding_cell: 60, grounding_box: 60, recognition: 60, reasoning: 160, text: 100 },
});
const of = (kind: string): WorldExample[] => world.filter((e) => e.kind === kind);
const seen = (e: WorldExample): DecodedShape[] => decodeShapes(renderScene(e.scene!), 3);
const named = (prompt: string): { colour: string; kind: string } => {
  const m = /(red|green|blue|yellow|purple) (square|circle|triangle)\b/.exec(prompt);
  if (m === null) throw new Error(`no shape named in ${prompt}`);
  return { colour: m[1]!, kind: m[2]! };
};
const singular = (plural: string): string => plural.replace(/s$/, '');

describe('world questions, checked against the pixels', () => {
  it('ids are unique and every answer scores as correct against itself', () => {
    expect(new Set(world.map((e) => e.id)).size).toBe(world.length);
    for (const e of world) {
      const text = Array.isArray(e.answer) ? e.answer.join(',') : e.answer;
      expect(scoreAnswer(e.task, text, e.answer).correct).toBe(true);
      if (!Array.isArray(e.answer)) expect(e.answer.length).toBeLessThan(20);
    }
  });

  it('counting answers are the number of matching shapes seen', () => {
    for (const e of of('counting')) {
      const shapes = seen(e);
      const colour = /How many (\w+) shapes/.exec(e.prompt)?.[1];
      const kind = /How many (squares|circles|triangles)/.exec(e.prompt)?.[1];
      const n = shapes.filter((s) => (colour === undefined || s.colour === colour) && (kind === undefined || s.kind === singular(kind))).length;
      expect(e.answer).toBe(String(n));
    }
    expect(new Set(of('counting').map((e) => e.tags[1])).size).toBe(3);
  });

  it('grounding names a shape that occurs exactly once, at the cell and box seen', () => {
    for (const e of [...of('grounding_cell'), ...of('grounding_box')]) {
      const target = named(e.prompt);
      const matches = seen(e).filter((s) => s.colour === target.colour && s.kind === target.kind);
      expect(matches).toHaveLength(1);
      expect(e.answer).toEqual(e.kind === 'grounding_cell' ? matches[0]!.cell : matches[0]!.box);
    }
  });

  it('recognition answers say whether the named shape is seen, and both answers occur', () => {
    for (const e of of('recognition')) {
      const target = named(e.prompt);
      const present = seen(e).some((s) => s.colour === target.colour && s.kind === target.kind);
      expect(e.answer).toBe(present ? 'yes' : 'no');
    }
    const yes = of('recognition').filter((e) => e.answer === 'yes').length;
    expect(yes).toBeGreaterThan(15);
    expect(yes).toBeLessThan(45);
  });

  it('visual reasoning answers follow from the shapes seen, are unique, and match the worked solution', () => {
    const variants = new Set<string>();
    for (const e of of('reasoning')) {
      const shapes = seen(e);
      const count = (f: (s: DecodedShape) => boolean): number => shapes.filter(f).length;
      const p = e.prompt;
      let m: RegExpExecArray | null;
      if ((m = /How many more (\w+) than (\w+) are/.exec(p))) {
        const d = count((s) => s.kind === singular(m![1]!)) - count((s) => s.kind === singular(m![2]!));
        expect(d).toBeGreaterThan(0);
        expect(e.answer).toBe(String(d));
        variants.add('difference');
      } else if ((m = /Are there more (\w+) shapes than (\w+) shapes/.exec(p))) {
        const a = count((s) => s.colour === m![1]);
        const b = count((s) => s.colour === m![2]);
        expect(a).not.toBe(b);
        expect(e.answer).toBe(a > b ? 'yes' : 'no');
        variants.add('compare');
      } else if (/Which colour appears most often/.test(p)) {
        const tally = COLOUR_NAMES.map((c) => count((s) => s.colour === c));
        const best = Math.max(...tally);
        expect(tally.filter((t) => t === best)).toHaveLength(1);
        expect(e.answer).toBe(COLOUR_NAMES[tally.indexOf(best)]);
        variants.add('most-frequent');
      } else if ((m = /How many shapes are (\w+) or (\w+) in/.exec(p))) {
        expect(m[1]).not.toBe(m[2]);
        expect(e.answer).toBe(String(count((s) => s.colour === m![1] || s.colour === m![2])));
        variants.add('total');
      } else {
        throw new Error(`unrecognised reasoning prompt ${p}`);
      }
      expect(normalizeAnswer(e.solution!)).toBe(normalizeAnswer(e.answer as string));
      expect(e.solution).toMatch(/^<think>.+<\/think><answer>.+<\/answer>$/);
    }
    expect(variants.size).toBe(4);
  });

  it('text-only answers are the arithmetic the prompt asks for', () => {
    for (const e of of('text')) {
      expect(e.scene).toBeNull();
      expect(e.description).toBeNull();
      expect(e.prompt).not.toContain('<image>');
      const n = (e.prompt.match(/\d+/g) ?? []).map(Number);
      const expected =
        /\+/.test(e.prompt) ? n[0]! + n[1]! :
        / - /.test(e.prompt) ? n[0]! - n[1]! :
        /times/.test(e.prompt) ? n[0]! * n[1]! :
        /larger/.test(e.prompt) ? Math.max(n[0]!, n[1]!) :
        n[0]! + n[1]! - n[2]!;
      if (/larger/.test(e.prompt)) expect(n[0]).not.toBe(n[1]);
      expect(expected).toBeGreaterThan(0);
      expect(e.answer).toBe(String(expected));
      expect(normalizeAnswer(e.solution!)).toBe(e.answer);
    }
  });

  it('descriptions list every shape seen with its colour and cell', () => {
    for (const e of [...of('counting'), ...of('grounding_cell')]) {
      const listed = [...e.description!.matchAll(/an? (\w+) (\w+) in ([A-C][1-3])/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`).sort();
      expect(listed).toEqual(seen(e).map((s) => `${s.colour} ${s.kind} ${s.cell}`).sort());
    }
    for (const e of of('ocr')) expect(e.description).toContain(`"${(e.answer as string).toUpperCase()}"`);
  });

  it('training examples come from another stream than the probes of the same seed', () => {
    const train = trainingExamples(7, 70);
    expect(new Set(train.map((e) => e.id)).size).toBe(70);
    expect(train.every((e) => e.id.startsWith('train-'))).toBe(true);
    const probeScenes = new Set(world.filter((e) => e.scene !== null).map((e) => JSON.stringify(e.scene)));
    const shared = train.filter((e) => e.scene !== null && probeScenes.has(JSON.stringify(e.scene)));
    // only degenerate scenes (e.g. an empty canvas) can coincide by chance
    expect(shared.length).toBeLessThan(5);
    expect(JSON.stringify(trainingExamples(7, 70))).toBe(JSON.stringify(train));
  });

  it('refuses unknown kinds and bad counts, naming them', () => {
    expect(() => generateWorld({ seed: 1, counts: { bogus: 1 } as never })).toThrow(/bogus/);
    expect(() => generateWorld({ seed: 1, counts: { text: -1 } })).toThrow(/counts.text/);
    expect(() => trainingExamples(1, 1.5)).toThrow(/'n'/);
  });
});
