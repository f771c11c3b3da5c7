/**
 * Answer normalisation (METHOD.md 1a) and the equality behind change and
 * transfer rates. The exact rules are in docs/probe-sets.md, "Scoring".
 */

/** Answers at least this long (in code points, after normalisation) are compared loosely. */
export const SHORT_ANSWER_LENGTH = 20;

const TAGGED = /<answer>([\s\S]*?)<\/answer>/gi;
const OPEN_TAG = /<answer>/gi;
const TRAILING_PUNCTUATION = /[\p{P}\s]+$/u;
const ALL_PUNCTUATION = /\p{P}+/gu;
const WHITESPACE = /\s+/g;

/**
 * The text inside the last `<answer>...</answer>` pair; when the last
 * `<answer>` is never closed (generation stopped), what follows it; else
 * the text unchanged.
 */
export function extractTaggedAnswer(text: string): string {
  let inner: string | undefined;
  let closedEnd = -1;
  for (const match of text.matchAll(TAGGED)) {
    inner = match[1];
    closedEnd = match.index + match[0].length;
  }
  let lastOpen = -1;
  for (const match of text.matchAll(OPEN_TAG)) lastOpen = match.index;
  if (lastOpen >= 0 && lastOpen >= closedEnd) return text.slice(lastOpen + '<answer>'.length);
  return inner ?? text;
}

/**
 * Tag extraction, trimming, lower case (locale-independent), whitespace
 * runs to one space, then the trailing run of Unicode punctuation (and any
 * whitespace within it) removed: ' The answer: 3. ' -> 'the answer: 3'.
 */
export function normalizeAnswer(text: string): string {
  return extractTaggedAnswer(text).trim().toLowerCase().replace(WHITESPACE, ' ').replace(TRAILING_PUNCTUATION, '');
}

function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The loose form of a long answer: every punctuation character dropped, whitespace collapsed. */
export function looseAnswer(normalized: string): string {
  return normalized.replace(ALL_PUNCTUATION, '').replace(WHITESPACE, ' ').trim();
}

/**
 * Whether two generated answers count as the same (change rate, transfer
 * rate). Both are normalised; when both are shorter than
 * SHORT_ANSWER_LENGTH code points they must be identical, otherwise they
 * are compared in their loose form (punctuation dropped), so that short
 * answers such as '3.5' vs '35' or '1,2' vs '12' stay different while long
 * generations that differ only in punctuation count as equal.
 */
export function answersEqual(a: string, b: string): boolean {
  const x = normalizeAnswer(a);
  const y = normalizeAnswer(b);
  if (codePointLength(x) < SHORT_ANSWER_LENGTH && codePointLength(y) < SHORT_ANSWER_LENGTH) return x === y;
  return looseAnswer(x) === looseAnswer(y);
}
