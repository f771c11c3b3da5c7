/**
 * Reading final answers from worked solutions and comparing them with the
 * gold of GSM8K / MATH-500. Every expected value below was written by hand
 * from the generation text, not computed by the code under test.
 */
import { describe, expect, test } from 'vitest';
import { extractMathAnswer, lastBoxed, mathAnswersEqual, normalizeMathAnswer, scoreAnswer } from '../../src/engine/scoring/index.js';

describe('extractMathAnswer: last \\boxed{}, then <answer>, then the last number', () => {
  const cases: [string, string, string | null][] = [
    ['GSM8K chain ending in a box', 'Natalia sold 48/2 = 24 clips in May.\nAltogether she sold 48 + 24 = 72 clips.\nThe answer is $\\boxed{72}$.', '72'],
    ['GSM8K chain without a box: the last number', 'Weng earns 12/60 = $0.2 per minute.\nWorking 50 minutes, she earned 0.2 x 50 = $10.', '10'],
    ['thousands comma in the last number is removed', 'So the total cost is 1,250 + 3,000 = 4,250 dollars.', '4250'],
    ['a negative last number', 'The temperature dropped to -7 degrees.', '-7'],
    ['the last of several boxes wins', 'First guess \\boxed{12}, but correcting the error gives \\boxed{14}.', '14'],
    ['nested braces inside the box', 'Therefore the answer is \\boxed{\\frac{\\sqrt{3}}{2}}.', '\\frac{\\sqrt{3}}{2}'],
    ['a tuple with \\left( \\right)', 'In polar coordinates: $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}$', '\\left( 3, \\frac{\\pi}{2} \\right)'],
    ['a box cut off by the token budget falls back to the earlier complete one', 'Maybe \\boxed{5}. Let me recheck: \\boxed{\\frac{7}{', '5'],
    ['an unclosed box and nothing earlier: the last number', 'We get 3 + 4 = 7, so \\boxed{\\frac{7}{', '7'],
    ['box beats an <answer> tag', '<think>2+2</think><answer>5</answer> Actually \\boxed{4}', '4'],
    ['<answer> tags of the demo models', '<think>There are 3 red and 5 blue, 3+5=8.</think><answer>8</answer>', '8'],
    ['an unclosed last <answer> (generation stopped)', '<think>12 * 3 = 36</think><answer>36', '36'],
    ['<answer> with a sentence keeps the sentence', '<answer>The answer is 15 apples</answer>', 'The answer is 15 apples'],
    ['a label glued to a letter is not a number', 'Step 3: add them, which gives x2', '3'],
    ['a decimal last number', 'Each share is 7.5 dollars and the tip 0.25', '0.25'],
    ['\\boxed with a space argument', 'so the answer is \\boxed 9', '9'],
    ['text in the box', 'The culprit is \\boxed{\\text{Evelyn}}.', '\\text{Evelyn}'],
    ['no answer at all', 'I am not sure how to solve this problem.', null],
  ];
  test.each(cases)('%s', (_name, text, expected) => {
    expect(extractMathAnswer(text)).toBe(expected);
  });

  test('lastBoxed reads braces escaped with a backslash as text', () => {
    expect(lastBoxed('\\boxed{\\{1, 2\\}}')).toBe('\\{1, 2\\}');
    expect(lastBoxed('no box here')).toBeNull();
  });
});

describe('mathAnswersEqual: numbers and simple LaTeX', () => {
  const equal: [string, string][] = [
    ['72', '72'],
    ['72.0', '72'],
    ['1,000', '1000'],
    ['\\$18', '18'],
    ['18 \\text{ dollars}', '18'],
    ['0.5', '\\frac{1}{2}'],
    ['\\frac12', '\\frac{1}{2}'],
    ['\\dfrac{1}{2}', '\\frac{1}{2}'],
    ['1/2', '\\frac{1}{2}'],
    ['.5', '1/2'],
    ['-\\frac{3}{4}', '-0.75'],
    ['\\tfrac{3}{2}', '\\dfrac{3}{2}'],
    ['\\left( 3, \\frac{\\pi}{2} \\right)', '(3,\\frac{\\pi}{2})'],
    ['(3, \\pi/2)', '\\left( 3, \\frac{\\pi}{2} \\right)'],
    ['(0.5, 2)', '\\left(\\frac12, 2\\right)'],
    ['90^\\circ', '90'],
    ['90^{\\circ}', '90'],
    ['30°', '30'],
    ['12\\text{ cm}', '12'],
    ['10\\%', '10'],
    ['x = 5', '5'],
    ['$\\sqrt2$', '\\sqrt{2}'],
    ['\\frac{\\sqrt{3}}{2}', '\\frac{\\sqrt3}{2}'],
    ['2\\!\\sqrt{5}', '2\\sqrt{5}'],
    ['\\text{(C)}', '\\text{(C)}'],
    ['\\text{Evelyn}', 'Evelyn'],
    ['[-2, 7)', '[-2,7)'],
  ];
  test.each(equal)('%s == %s', (a, b) => {
    expect(mathAnswersEqual(a, b)).toBe(true);
  });

  const different: [string, string][] = [
    ['73', '72'],
    ['0.51', '\\frac{1}{2}'],
    ['\\frac{2}{1}', '\\frac{1}{2}'],
    ['(3, \\pi)', '\\left( 3, \\frac{\\pi}{2} \\right)'],
    ['(2, 7)', '[2, 7)'],
    ['-5', '5'],
    ['2\\sqrt{5}', '\\sqrt{10}'],
    ['\\text{(B)}', '\\text{(C)}'],
    ['12', '1,2'],
  ];
  test.each(different)('%s != %s', (a, b) => {
    expect(mathAnswersEqual(a, b)).toBe(false);
  });

  test('the canonical form drops delimiters, spacing, \\left/\\right and braces shorthand', () => {
    expect(normalizeMathAnswer('$\\left( 3, \\dfrac\\pi2 \\right)$')).toBe('(3,\\frac{\\pi}{2})');
    expect(normalizeMathAnswer('5.')).toBe('5');
  });
});

describe("scoreAnswer('math', ...)", () => {
  test('a GSM8K generation against the gold after ####', () => {
    const generation = 'She has 16 - 3 - 4 = 9 eggs left. 9 * 2 = 18.\nSo she makes $\\boxed{18}$ dollars every day.';
    expect(scoreAnswer('math', generation, '18')).toEqual({ correct: true, score: 1, parsed: '18' });
    expect(scoreAnswer('math', generation, '19')).toEqual({ correct: false, score: 0, parsed: '18' });
  });

  test('a MATH generation with a LaTeX gold', () => {
    const generation = 'The point has $r = 3$ and $\\theta = \\frac{\\pi}{2}$, so the answer is $\\boxed{(3,\\frac{\\pi}{2})}$.';
    expect(scoreAnswer('math', generation, '\\left( 3, \\frac{\\pi}{2} \\right)').correct).toBe(true);
  });

  test('no answer read is wrong with parsed null', () => {
    expect(scoreAnswer('math', 'I cannot tell.', '4')).toEqual({ correct: false, score: 0, parsed: null });
  });

  test('the numeric task is unchanged: it reads the last number and ignores boxes', () => {
    expect(scoreAnswer('numeric', 'The answer is \\boxed{7}. Check: 7 + 1 = 8', '7').correct).toBe(false);
    expect(scoreAnswer('math', 'The answer is \\boxed{7}. Check: 7 + 1 = 8', '7').correct).toBe(true);
  });
});
