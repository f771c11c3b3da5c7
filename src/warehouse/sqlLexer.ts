/**
 * Just enough SQL lexing for the door's first checks, done before DuckDB
 * sees the text. It follows DuckDB's (Postgres's) scanner on the points that
 * decide where a statement ends: '' inside strings, backslash escapes only
 * in E'...' strings, "quoted identifiers", $tag$ dollar quoting, -- line
 * comments and nested block comments. It is the first of several checks:
 * DuckDB's own statement count is checked after it.
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

/** Index just past the token starting at i: a string, quoted identifier, dollar-quoted string, comment, or one character. */
function skipToken(sql: string, i: number): number {
  const ch = sql[i]!;
  if (ch === "'") return skipQuoted(sql, i, "'", isEscapeStringPrefix(sql, i));
  if (ch === '"') return skipQuoted(sql, i, '"', false);
  if (ch === '$') return skipDollarQuoted(sql, i);
  if (ch === '-' && sql[i + 1] === '-') {
    const end = sql.indexOf('\n', i + 2);
    return end === -1 ? sql.length : end + 1;
  }
  if (ch === '/' && sql[i + 1] === '*') return skipBlockComment(sql, i);
  return i + 1;
}

/** E'...' (or e'...'): the E must stand alone, not end an identifier like `name'`. */
function isEscapeStringPrefix(sql: string, quote: number): boolean {
  const prefix = sql[quote - 1];
  if (prefix !== 'E' && prefix !== 'e') return false;
  return quote < 2 || !/[A-Za-z0-9_$]/.test(sql[quote - 2]!);
}

function skipQuoted(sql: string, i: number, quote: string, backslashEscapes: boolean): number {
  let j = i + 1;
  while (j < sql.length) {
    const ch = sql[j]!;
    if (backslashEscapes && ch === '\\') j += 2;
    else if (ch === quote && sql[j + 1] === quote) j += 2;
    else if (ch === quote) return j + 1;
    else j++;
  }
  return sql.length;
}

/** $$...$$ or $tag$...$tag$; a `$` that opens no such quote (a $1 parameter, a$b identifier) is one character. */
function skipDollarQuoted(sql: string, i: number): number {
  if (i > 0 && /[A-Za-z0-9_$]/.test(sql[i - 1]!)) return i + 1;
  const open = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
  if (!open) return i + 1;
  const end = sql.indexOf(open[0], i + open[0].length);
  return end === -1 ? sql.length : end + open[0].length;
}

function skipBlockComment(sql: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < sql.length) {
    if (sql[j] === '/' && sql[j + 1] === '*') {
      depth++;
      j += 2;
    } else if (sql[j] === '*' && sql[j + 1] === '/') {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else {
      j++;
    }
  }
  return sql.length;
}
