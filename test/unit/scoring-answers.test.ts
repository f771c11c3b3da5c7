import { describe, expect, it } from 'vitest';
import type { ProbeExample } from '../../src/engine/probes/index.js';
import {
  answersEqual,
  boxIou,
  extractFirstInteger,
  extractTaggedAnswer,
  isCorrect,
  normalizeAnswer,
  parseBox,
  parseYesNo,
  scoreAnswer,
  scoreExample,
} from '../../src/engine/scoring/index.js';

describe('normalizeAnswer', () => {
  it.each([
    ['  Three.  ', 'three'],
    ['Yes!', 'yes'],
    ['The answer is 3 .', 'the answer is 3'],
    ['a\n\tb', 'a b'],
    ['(a)', '(a'],
    ['Done?!…', 'done'],
    ['<think>hmm</think><answer> 42. </answer>', '42'],
  ])('%j -> %j', (input, expected) => expect(normalizeAnswer(input)).toBe(expected));

  it('keeps leading and inner punctuation', () => expect(normalizeAnswer('.5, 3.')).toBe('.5, 3'));
});

describe('extractTaggedAnswer', () => {
  it('takes the last closed pair, or what follows an unclosed last tag', () => {
    expect(extractTaggedAnswer('<answer>1</answer> then <answer>2</answer>')).toBe('2');
    expect(extractTaggedAnswer('<answer>1</answer> then <answer>2 and more')).toBe('2 and more');
    expect(extractTaggedAnswer('<ANSWER>x</ANSWER>')).toBe('x');
    expect(extractTaggedAnswer('no tags')).toBe('no tags');
  });
});

describe('answersEqual: exact under 20 characters, loose above', () => {
  it('short answers compare exactly after normalisation', () => {
    expect(answersEqual('3', '3.')).toBe(true);
    expect(answersEqual(' Yes', 'yes!')).toBe(true);
    expect(answersEqual('3.5', '35')).toBe(false);
    expect(answersEqual('1,2,3,4', '1234')).toBe(false);
    // 19 characters each: still exact
    expect(answersEqual('abcdefghij, klmnopq', 'abcdefghij klmnopq')).toBe(false);
  });

  it('answers of 20+ characters ignore punctuation differences but not words', () => {
    expect(answersEqual('There are three cubes, and one ball.', 'there are three cubes and one ball')).toBe(true);
    expect(answersEqual('abcdefghij, klmnopqr', 'abcdefghij klmnopqr')).toBe(true);
    expect(answersEqual('There are three cubes and one ball', 'There are three cubes and two balls')).toBe(false);
    // one short, one long: loose comparison, and they differ
    expect(answersEqual('3', 'there are 3 items in the image')).toBe(false);
  });
});

describe('counting: the first integer', () => {
  it.each([
    ['3', '3', true],
    ['There are 3 items.', '3', true],
    ['<answer>10</answer>', '10', true],
    ['3 or 4', '4', false],
    ['3.5', '3', false],
    ['three', '3', false],
    ['', '3', false],
    ['Q1: there are 5', '5', true],
  ])('%j vs gold %j -> %s', (prediction, gold, expected) => expect(isCorrect('counting', prediction, gold)).toBe(expected));

  it('extractFirstInteger reads signs and refuses fractions', () => {
    expect(extractFirstInteger('minus -2 apples')).toBe(-2);
    expect(extractFirstInteger('2.0 items')).toBe(2);
    expect(extractFirstInteger('2.25 items')).toBeNull();
  });
});

describe('recognition: yes/no', () => {
  it.each([
    ['Yes', 'yes'],
    ['No.', 'no'],
    ['yes, there is a toaster', 'yes'],
    ['There is no toaster.', 'no'],
    ['I cannot tell: yes or no?', null],
    ['maybe', null],
  ])('%j reads as %j', (text, expected) => expect(parseYesNo(text)).toBe(expected));

  it('compares with the gold Yes/No', () => {
    expect(isCorrect('recognition', 'yes.', 'Yes')).toBe(true);
    expect(isCorrect('recognition', 'No', 'Yes')).toBe(false);
    expect(isCorrect('recognition', 'maybe', 'No')).toBe(false);
  });
});

describe('ocr and free-form', () => {
  it('ocr: the normalised word, surrounding quotes dropped', () => {
    expect(isCorrect('ocr', '"Backpropagation".', 'backpropagation')).toBe(true);
    expect(isCorrect('ocr', 'backprop', 'backpropagation')).toBe(false);
    expect(isCorrect('ocr', 'The word is backpropagation', 'backpropagation')).toBe(false);
  });
  it('free: normalised exact match', () => {
    expect(isCorrect('free', ' Paris. ', 'paris')).toBe(true);
    expect(isCorrect('free', 'Paris, France', 'paris')).toBe(false);
  });
  it('numeric: the last number, thousands separators allowed', () => {
    expect(isCorrect('numeric', '12 + 30 = 42', '42')).toBe(true);
    expect(isCorrect('numeric', 'so the total is 1,234.', '1234')).toBe(true);
    expect(isCorrect('numeric', '<answer>42</answer> because 6 * 7', '42')).toBe(true);
    expect(isCorrect('numeric', '0.1 + 0.2 = 0.30000000000000004', '0.3')).toBe(true);
    expect(isCorrect('numeric', '41', '42')).toBe(false);
  });
});

describe('grounding: IoU of the first four numbers', () => {
  it('boxIou against hand-computed areas', () => {
    expect(boxIou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    expect(boxIou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150, 15);
    expect(boxIou([0, 0, 10, 10], [0, 0, 10, 8])).toBeCloseTo(80 / 100, 15);
    expect(boxIou([0, 0, 2, 2], [3, 3, 4, 4])).toBe(0);
    expect(boxIou([0, 0, 2, 2], [1, 1, 3, 3])).toBeCloseTo(1 / 7, 15);
  });

  it('parses boxes from free text', () => {
    expect(parseBox('[283, 278, 368, 348]')).toEqual([283, 278, 368, 348]);
    expect(parseBox('x1=1.5,y1=2 x2=3 y2=4 extra 9')).toEqual([1.5, 2, 3, 4]);
    expect(parseBox('1, 2, 3')).toBeNull();
  });

  it('is correct at IoU >= threshold; the score is the IoU', () => {
    expect(scoreAnswer('grounding', '0,0,10,8', [0, 0, 10, 10])).toEqual({ correct: true, score: 0.8, parsed: [0, 0, 10, 8] });
    expect(scoreAnswer('grounding', '5,0,15,10', [0, 0, 10, 10]).correct).toBe(false);
    expect(scoreAnswer('grounding', '5,0,15,10', [0, 0, 10, 10], { iouThreshold: 0.3 }).correct).toBe(true);
    expect(scoreAnswer('grounding', 'no idea', [0, 0, 10, 10])).toEqual({ correct: false, score: 0, parsed: null });
    expect(() => scoreAnswer('grounding', '1,2,3,4', [0, 0, 1, 1], { iouThreshold: 0 })).toThrow(/iouThreshold/);
    expect(() => scoreAnswer('grounding', '1,2,3,4', 'x')).toThrow(TypeError);
  });
});

describe('scoreExample', () => {
  const example: ProbeExample = {
    id: 'g',
    task: 'grounding',
    split: 'pairs',
    prompt: 'Locate',
    images: { target: null, source: null },
    answers: { target: [0, 0, 10, 10], source: [20, 20, 30, 30] },
    description: null,
    tags: [],
    meta: { iou_threshold: 0.3 },
  };
  it("uses the example's threshold, and the source answer for transfer", () => {
    expect(scoreExample(example, '5,0,15,10').correct).toBe(true);
    expect(scoreExample(example, '20,20,30,30', 'source').correct).toBe(true);
    expect(scoreExample(example, '20,20,30,30').correct).toBe(false);
    expect(() => scoreExample({ ...example, answers: { target: [0, 0, 1, 1], source: null } }, 'x', 'source')).toThrow(/no source answer/);
  });
});
