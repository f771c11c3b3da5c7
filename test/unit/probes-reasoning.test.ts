import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProbeSet, ProbeSetError, REASONING_INSTRUCTION } from '../../src/engine/probes/index.js';
import { writeGsm8kFolder, writeMath500Folder } from '../helpers/reasoning-fixtures.js';
import { withTempDir } from './probes-fixtures.js';

const INSTRUCTION = 'Please reason step by step, and put your final answer within \\boxed{}.';

async function refusal(path: string): Promise<ProbeSetError> {
  const error = await loadProbeSet(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProbeSetError);
  return error as ProbeSetError;
}

describe('GSM8K as shipped (test.jsonl / train.jsonl of question + answer)', () => {
  it('registers test.jsonl of the folder: ids from line numbers, gold after ####, commas removed, the instruction appended', () =>
    withTempDir(async (dir) => {
      const set = await loadProbeSet(writeGsm8kFolder(join(dir, 'gsm8k')));
      expect(set.format).toBe('gsm8k');
      expect(REASONING_INSTRUCTION).toBe(INSTRUCTION);
      expect(set.examples.map((e) => [e.id, e.answers.target])).toEqual([
        ['test-00001', '18'],
        ['test-00002', '3'],
        ['test-00003', '70000'],
      ]);
      const first = set.examples[0]!;
      expect(first.task).toBe('math');
      expect(first.split).toBe('reasoning');
      expect(first.images).toEqual({ target: null, source: null });
      expect(first.prompt.startsWith('Janet’s ducks lay 16 eggs per day.')).toBe(true);
      expect(first.prompt.endsWith(`farmers' market?\n\n${INSTRUCTION}`)).toBe(true);
      expect(first.tags).toEqual(['test']);
      expect(first.meta).toEqual({
        file: 'test.jsonl',
        solution: 'Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day at the farmer’s market.',
      });
    }));

  it('reads train.jsonl when given its path, and detects the format of a lone file by its keys', () =>
    withTempDir(async (dir) => {
      const root = writeGsm8kFolder(join(dir, 'gsm8k'));
      const train = await loadProbeSet(join(root, 'train.jsonl'));
      expect(train.format).toBe('gsm8k');
      expect(train.examples.map((e) => [e.id, e.answers.target, e.tags])).toEqual([['train-00001', '72', ['train']]]);
      // reloading with the stored format reads the same file: the folder's test.jsonl, or the train.jsonl given
      expect((await loadProbeSet(root, { format: 'gsm8k' })).fingerprint).toBe((await loadProbeSet(root)).fingerprint);
      expect((await loadProbeSet(join(root, 'train.jsonl'), { format: 'gsm8k' })).fingerprint).toBe(train.fingerprint);
    }));

  it('refuses an answer without #### (BAD_ANSWER), a non-number after it, and a missing answer, naming the line', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'test.jsonl');
      writeFileSync(file, `${JSON.stringify({ question: 'q1', answer: 'x\n#### 4' })}\n${JSON.stringify({ question: 'q2', answer: 'no final line' })}\n`);
      let e = await refusal(dir);
      expect([e.code, e.line, e.exampleId]).toEqual(['BAD_ANSWER', 2, 'test-00002']);
      expect(e.message).toMatch(/'#### n'/);
      writeFileSync(file, `${JSON.stringify({ question: 'q1', answer: 'x\n#### four' })}\n`);
      e = await refusal(dir);
      expect([e.code, e.line]).toEqual(['BAD_ANSWER', 1]);
      expect(e.message).toMatch(/"four"/);
      writeFileSync(file, `${JSON.stringify({ question: 'q1', answer: 'x\n#### 1' })}\n${JSON.stringify({ question: 'q2', answer: null })}\n`);
      e = await refusal(dir);
      expect([e.code, e.line]).toEqual(['MISSING_ANSWER', 2]);
    }));

  it('a question holding <image> is refused: these sets have no pictures', () =>
    withTempDir(async (dir) => {
      writeFileSync(join(dir, 'test.jsonl'), `${JSON.stringify({ question: '<image>How many?', answer: '#### 2' })}\n`);
      expect((await refusal(dir)).code).toBe('IMAGE_MARKER_WITHOUT_IMAGE');
    }));
});

describe('MATH-500 as shipped (test.jsonl with unique_id)', () => {
  it('ids are unique_id, gold is answer as written, subject and level kept', () =>
    withTempDir(async (dir) => {
      const set = await loadProbeSet(writeMath500Folder(join(dir, 'math500')));
      expect(set.format).toBe('math500');
      // file order (the fingerprint and example selection sort by id themselves)
      expect(set.examples.map((e) => [e.id, e.answers.target])).toEqual([
        ['test/precalculus/807.json', '\\left( 3, \\frac{\\pi}{2} \\right)'],
        ['test/algebra/2584.json', '\\frac{14}{3}'],
      ]);
      const first = set.examples[0]!;
      expect([first.task, first.split]).toEqual(['math', 'reasoning']);
      expect(first.tags).toEqual(['test', 'Precalculus']);
      expect(first.meta).toMatchObject({ file: 'test.jsonl', subject: 'Precalculus', level: 2 });
      expect(first.prompt.endsWith(`0 \\le \\theta < 2 \\pi.$\n\n${INSTRUCTION}`)).toBe(true);
    }));

  it('a duplicated unique_id is DUPLICATE_ID; an empty answer BAD_ANSWER; no answer MISSING_ANSWER', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'test.jsonl');
      const line = (over: Record<string, unknown>) => JSON.stringify({ problem: 'p', solution: 's', answer: '1', subject: 'Algebra', level: 1, unique_id: 'test/algebra/1.json', ...over });
      writeFileSync(file, `${line({})}\n${line({})}\n`);
      let e = await refusal(dir);
      expect([e.code, e.line, e.exampleId]).toEqual(['DUPLICATE_ID', 2, 'test/algebra/1.json']);
      writeFileSync(file, `${line({ answer: '  ' })}\n`);
      expect((await refusal(dir)).code).toBe('BAD_ANSWER');
      writeFileSync(file, `${line({})}\n${JSON.stringify({ problem: 'p', answer: null, unique_id: 'u2' })}\n`);
      e = await refusal(dir);
      expect([e.code, e.line, e.exampleId]).toEqual(['MISSING_ANSWER', 2, 'u2']);
    }));
});

describe('detection', () => {
  it('a folder with neither of the known files says which files it looked for', () =>
    withTempDir(async (dir) => {
      writeFileSync(join(dir, 'validation.jsonl'), '{}\n');
      const e = await refusal(dir);
      expect(e.code).toBe('NOT_A_PROBE_SET');
      expect(e.message).toMatch(/test\.jsonl \/ train\.jsonl \(GSM8K, MATH-500\)/);
    }));

  it('a test.jsonl in the probes.jsonl format (lines with an id) is read as probes.jsonl', () =>
    withTempDir(async (dir) => {
      writeFileSync(join(dir, 'test.jsonl'), `${JSON.stringify({ id: 'r1', split: 'reasoning', task: 'numeric', prompt: 'What is 2+2?', answer: 4 })}\n`);
      const set = await loadProbeSet(dir);
      expect(set.format).toBe('jsonl');
      expect(set.examples.map((e) => [e.id, e.prompt])).toEqual([['r1', 'What is 2+2?']]);
      // read again with the format the registry stored, as every analysis does
      expect((await loadProbeSet(dir, { format: 'jsonl' })).fingerprint).toBe(set.fingerprint);
    }));

  it('a line of some other dataset is told the four accepted shapes', () =>
    withTempDir(async (dir) => {
      writeFileSync(join(dir, 'test.jsonl'), `${JSON.stringify({ text: 'hello' })}\n`);
      const e = await refusal(dir);
      expect(e.code).toBe('MISSING_FIELD');
      expect(e.message).toMatch(/GSM8K lines \{"question", "answer": "\.\.\. #### n"\}/);
    }));
});
