/**
 * Final answers of worked solutions (GSM8K, MATH-500): where the answer is
 * read from a generation, and when two answers mean the same number or
 * expression. The rules, with a table of examples, are in
 * docs/probe-sets.md, "Reasoning answers".
 */
import { extractTaggedAnswer } from './normalize.js';

/** Relative tolerance when both answers are numbers (as the numeric task). */
export const MATH_NUMBER_TOLERANCE = 1e-6;

const BOXED = '\\boxed';
const TAG = /<answer>/i;
// a digit run glued to a letter ('x1', 'Q3') is a label, not a number; thousands commas are allowed
const LAST_NUMBER = /(?<![\p{L}\d.])-?\d[\d,]*(?:\.\d+)?|(?<![\p{L}\d.])-?\.\d+/gu;

/**
 * The final answer of a generation, as the reference scripts read it:
 * 1. the content of the last `\boxed{...}` whose braces close (nested braces
 *    allowed; a box cut off by the token budget is passed over),
 * 2. else the text of the last `<answer>...</answer>` (or of an unclosed
 *    last `<answer>`),
 * 3. else the last number in the text (thousands commas allowed, removed).
 * null when none of these is found.
 */
export function extractMathAnswer(text: string): string | null {
  const boxed = lastBoxed(text);
  if (boxed !== null) return boxed.trim();
  if (TAG.test(text)) {
    const tagged = extractTaggedAnswer(text).trim();
    if (tagged !== '') return tagged;
  }
  const numbers = text.match(LAST_NUMBER);
  if (numbers === null) return null;
  return numbers[numbers.length - 1]!.replaceAll(',', '');
}

/** The content of the last `\boxed{...}` that closes, or null. `\boxed 5` (a single token, no braces) counts too. */
export function lastBoxed(text: string): string | null {
  let from = text.length;
  for (;;) {
    const at = text.lastIndexOf(BOXED, from);
    if (at < 0) return null;
    const i = at + BOXED.length;
    if (text[i] === '{') {
      const group = readGroup(text, i);
      if (group !== null) return group.content;
    } else if (text[i] === ' ') {
      // '\boxed 5': TeX reads the next token as the argument
      const m = /^ +([^\s$]+)/.exec(text.slice(i));
      if (m) return m[1]!;
    }
    if (at === 0) return null;
    from = at - 1;
  }
}

/** The balanced `{...}` group opening at `open`, or null when it never closes. */
function readGroup(text: string, open: number): { content: string; end: number } | null {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      i++; // an escaped brace '\{' does not count
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return { content: text.slice(open + 1, i), end: i + 1 };
  }
  return null;
}

/** One argument of a TeX command at `i`: a `{group}`, a `\command`, or one character. */
function readArgument(text: string, i: number): { arg: string; end: number } | null {
  while (text[i] === ' ') i++;
  if (i >= text.length) return null;
  if (text[i] === '{') {
    const group = readGroup(text, i);
    return group === null ? null : { arg: group.content, end: group.end };
  }
  if (text[i] === '\\') {
    const m = /^\\[A-Za-z]+/.exec(text.slice(i));
    if (m) return { arg: m[0], end: i + m[0].length };
  }
  return { arg: text[i]!, end: i + 1 };
}

/** Rewrites `\frac12`, `\frac\pi2`, `\sqrt2` (shorthand arguments) to `\frac{1}{2}`, `\frac{\pi}{2}`, `\sqrt{2}`. */
function braceArguments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const m = /^\\(frac|sqrt)(?![A-Za-z])/.exec(text.slice(i));
    if (!m) {
      out += text[i];
      i++;
      continue;
    }
    const count = m[1] === 'frac' ? 2 : 1;
    let j = i + m[0].length;
    const args: string[] = [];
    for (let k = 0; k < count; k++) {
      const a = readArgument(text, j);
      if (a === null) break;
      args.push(braceArguments(a.arg));
      j = a.end;
    }
    if (args.length < count) {
      out += text.slice(i);
      break;
    }
    out += `\\${m[1]}${args.map((a) => `{${a}}`).join('')}`;
    i = j;
  }
  return out;
}

/** Removes every `\text{...}`-like group, or unwraps them when nothing else is left (an answer such as `\text{(C)}`). */
function dropTextGroups(text: string): string {
  const groups = /\\(?:text|textbf|mbox|mathrm)\s*\{/g;
  const pieces: { start: number; end: number; content: string }[] = [];
  for (let m = groups.exec(text); m !== null; m = groups.exec(text)) {
    const group = readGroup(text, m.index + m[0].length - 1);
    if (group === null) break;
    pieces.push({ start: m.index, end: group.end, content: group.content });
    groups.lastIndex = group.end;
  }
  if (pieces.length === 0) return text;
  let without = '';
  let unwrapped = '';
  let at = 0;
  for (const p of pieces) {
    without += text.slice(at, p.start);
    unwrapped += text.slice(at, p.start) + p.content;
    at = p.end;
  }
  without += text.slice(at);
  unwrapped += text.slice(at);
  // units ('12 \text{ cm}') go; a text-only answer keeps its words
  return without.replace(/\s+/g, '') === '' ? unwrapped : without;
}

/**
 * The canonical form two answers are compared in: math delimiters, `\left`
 * / `\right`, spacing commands, degree marks, percent and dollar signs,
 * units in `\text{}`, a leading `x =` and all whitespace removed; `\dfrac`
 * / `\tfrac` read as `\frac`, shorthand arguments braced, thousands commas
 * of a plain number removed, and `a/b` of two simple terms written
 * `\frac{a}{b}`.
 */
export function normalizeMathAnswer(answer: string): string {
  let s = answer.trim();
  s = s.replace(/^\$+|\$+$/g, '').replace(/^\\\(|\\\)$/g, '').replace(/^\\\[|\\\]$/g, '');
  s = dropTextGroups(s);
  s = s
    .replace(/\\left(?![A-Za-z])|\\right(?![A-Za-z])/g, '')
    .replace(/\\[!,;: ]/g, '')
    .replace(/\\[dt]frac(?![A-Za-z])/g, '\\frac')
    .replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°/g, '')
    .replace(/\\%|%/g, '')
    .replace(/\\\$|\$/g, '')
    .replace(/\\displaystyle/g, '');
  s = s.replace(/\s+/g, '');
  s = s.replace(/\.$/, '');
  // 'x=5', 'k = 3': a single variable named before the value
  const assignment = /^[A-Za-z]=(?!=)(.+)$/.exec(s);
  if (assignment && !assignment[1]!.includes('=')) s = assignment[1]!;
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replaceAll(',', '');
  s = braceArguments(s);
  // 'a/b' of two simple terms (digits, a letter, \pi) is the fraction \frac{a}{b}
  s = s.replace(/(?<![\w}\\])(-?)(\d+|[A-Za-z]|\\pi)\/(\d+|[A-Za-z]|\\pi)(?![\w{\\])/g, '$1\\frac{$2}{$3}');
  // '.5' is '0.5'
  s = s.replace(/(?<![\d}])\.(\d)/g, '0.$1');
  return s;
}

const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** The value of a normalised answer that is a number, a `\frac` of two numbers, or its negative; else null. */
export function mathNumberValue(normalized: string): number | null {
  if (PLAIN_NUMBER.test(normalized)) return Number(normalized);
  const frac = /^(-?)\\frac\{(-?[\d.]+)\}\{(-?[\d.]+)\}$/.exec(normalized);
  if (frac && PLAIN_NUMBER.test(frac[2]!) && PLAIN_NUMBER.test(frac[3]!)) {
    const d = Number(frac[3]);
    if (d === 0) return null;
    return (frac[1] === '-' ? -1 : 1) * (Number(frac[2]) / d);
  }
  return null;
}

/** Splits `(a,b)` / `[a,b)` into its brackets and top-level elements; null when it is not a bracketed list. */
function bracketedList(s: string): { open: string; close: string; items: string[] } | null {
  const open = s[0];
  const close = s[s.length - 1];
  if (!open || !close || !'([{'.includes(open) || !')]}'.includes(close) || s.length < 2) return null;
  const inner = s.slice(1, -1);
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      items.push(inner.slice(start, i));
      start = i + 1;
    }
    if (depth < 0) return null;
  }
  items.push(inner.slice(start));
  return items.length > 1 ? { open, close, items } : null;
}

function equalNormalized(a: string, b: string): boolean {
  if (a === b) return true;
  const x = mathNumberValue(a);
  const y = mathNumberValue(b);
  if (x !== null && y !== null) return Math.abs(x - y) <= MATH_NUMBER_TOLERANCE * Math.max(1, Math.abs(y));
  const la = bracketedList(a);
  const lb = bracketedList(b);
  if (la && lb && la.open === lb.open && la.close === lb.close && la.items.length === lb.items.length) {
    return la.items.every((item, i) => equalNormalized(item, lb.items[i]!));
  }
  return false;
}

/**
 * Whether an extracted answer means the gold answer: equal as numbers
 * (within MATH_NUMBER_TOLERANCE, so `0.5`, `1/2`, `\frac12` and `\dfrac{1}{2}`
 * agree), or equal in canonical form (normalizeMathAnswer), element by
 * element for tuples and intervals.
 */
export function mathAnswersEqual(answer: string, gold: string): boolean {
  return equalNormalized(normalizeMathAnswer(answer), normalizeMathAnswer(gold));
}
