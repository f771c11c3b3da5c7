/**
 * Just enough SQL lexing for the door's first checks, done before DuckDB
 * sees the text (DuckDB's own statement extraction already acts on some
 * statements: IMPORT DATABASE reads files while being parsed).
 *
 * Deliberately conservative: strings close at the first unpaired quote
 * (no backslash escapes, no dollar quoting) and block comments do not nest,
 * so any disagreement with DuckDB's lexer makes us see *more* statement
 * boundaries than DuckDB does, never fewer.
 */

/** One word (keyword or identifier) outside strings and comments, upper-cased, with where it ends. */
export interface LeadingWord {
  word: string;
  end: number;
}

/** Splits on top-level semicolons; statements that are only whitespace/comments are dropped. */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === ';') {
      statements.push(sql.slice(start, i));
      start = i + 1;
      i++;
    } else {
      i = skipToken(sql, i);
    }
  }
  statements.push(sql.slice(start));
  return statements.filter(hasCode);
}

/** The first `count` words of a statement, skipping whitespace, comments and opening parentheses. */
export function firstWords(sql: string, count: number): LeadingWord[] {
  const words: LeadingWord[] = [];
  let i = 0;
  while (i < sql.length && words.length < count) {
    const ch = sql[i]!;
    if (/\s|\(/.test(ch) || isCommentStart(sql, i)) {
      i = skipToken(sql, i);
      continue;
    }
    const match = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i));
    if (!match) break;
    words.push({ word: match[0].toUpperCase(), end: i + match[0].length });
    i += match[0].length;
  }
  return words;
}

/** True when the text holds anything besides whitespace and comments. */
function hasCode(sql: string): boolean {
  let i = 0;
  while (i < sql.length) {
    if (/\s/.test(sql[i]!) || isCommentStart(sql, i)) i = skipToken(sql, i);
    else return true;
  }
  return false;
}

function isCommentStart(sql: string, i: number): boolean {
  return (sql[i] === '-' && sql[i + 1] === '-') || (sql[i] === '/' && sql[i + 1] === '*');
}

/** Index just past the token starting at i: a quoted string/identifier, a comment, or one character. */
function skipToken(sql: string, i: number): number {
  const ch = sql[i]!;
  if (ch === "'" || ch === '"') return skipQuoted(sql, i, ch);
  if (ch === '-' && sql[i + 1] === '-') {
    const end = sql.indexOf('\n', i + 2);
    return end === -1 ? sql.length : end + 1;
  }
  if (ch === '/' && sql[i + 1] === '*') {
    const end = sql.indexOf('*/', i + 2);
    return end === -1 ? sql.length : end + 2;
  }
  return i + 1;
}

function skipQuoted(sql: string, i: number, quote: string): number {
  let j = i + 1;
  while (j < sql.length) {
    if (sql[j] === quote) {
      if (sql[j + 1] === quote) j += 2;
      else return j + 1;
    } else {
      j++;
    }
  }
  return sql.length;
}
