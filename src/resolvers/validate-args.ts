/**
 * Checks of single argument values where they enter the server. Services and
 * the warehouse assume values in range and answer anything else with a bare
 * RangeError (an internal error); here a mistake becomes BAD_USER_INPUT that
 * names the argument and what it allows. Messages never echo a string back:
 * it may be 100 kB or hold bytes a client cannot display.
 */
import { BadUserInputError } from '../schema/errors.js';

export interface IntRange {
  min: number;
  max: number;
}

/** Length limits of the kinds of text arguments. */
export const TEXT = {
  /** checkpoint, probe set and run ids */
  id: 256,
  /** task, split and weight-filter names, paging cursors */
  name: 1024,
  /** file-system paths (PATH_MAX on Linux) */
  path: 4096,
  /** one SQL statement for the analysts' door */
  sql: 65_536,
} as const;

/** Unified layer indices: vision blocks are negative, and the warehouse keeps -1000 for "no layer". */
export const LAYER_INDEX: IntRange = { min: -999, max: 9999 };

export const WAIT_SECONDS: IntRange = { min: 0, max: 600 };

function bad(argument: string, message: string, allowed: Record<string, unknown>): BadUserInputError {
  return new BadUserInputError(`'${argument}' ${message}`, argument, allowed);
}

/** An Int argument within `range`; null or undefined takes `fallback`. */
export function intArg(argument: string, value: number | null | undefined, range: IntRange, fallback: number): number;
export function intArg(argument: string, value: number | null | undefined, range: IntRange): number | undefined;
export function intArg(argument: string, value: number | null | undefined, range: IntRange, fallback?: number): number | undefined {
  const v = value ?? fallback;
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < range.min || v > range.max) {
    throw bad(argument, `must be an integer from ${range.min} to ${range.max}, got ${v}`, { ...range });
  }
  return v;
}

/** A Float argument, finite and within `range`; null or undefined takes `fallback`. */
export function floatArg(argument: string, value: number | null | undefined, range: IntRange, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < range.min || v > range.max) {
    throw bad(argument, `must be a number from ${range.min} to ${range.max}, got ${v}`, { ...range });
  }
  return v;
}

export interface TextRule {
  maxLength: number;
  /** an empty string means something (e.g. "no filter") */
  allowEmpty?: boolean;
}

/** A String or ID argument: no NUL byte (C APIs and paths end at one), bounded, non-empty unless allowed. */
export function textArg(argument: string, value: string, rule: TextRule): string;
export function textArg(argument: string, value: string | null | undefined, rule: TextRule): string | undefined;
export function textArg(argument: string, value: string | null | undefined, rule: TextRule): string | undefined {
  if (value === null || value === undefined) return undefined;
  const allowed = { minLength: rule.allowEmpty ? 0 : 1, maxLength: rule.maxLength, nul: false };
  if (value.length === 0 && !rule.allowEmpty) throw bad(argument, 'must not be empty; omit it instead', allowed);
  if (value.length > rule.maxLength) throw bad(argument, `must be at most ${rule.maxLength} characters, got ${value.length}`, allowed);
  if (value.includes('\0')) throw bad(argument, 'must not contain a NUL byte (U+0000)', allowed);
  return value;
}

/** An id of a checkpoint, probe set or run; whether it exists is the service's question (NOT_FOUND). */
export function idArg(argument: string, value: string): string;
export function idArg(argument: string, value: string | null | undefined): string | undefined;
export function idArg(argument: string, value: string | null | undefined): string | undefined {
  return textArg(argument, value, { maxLength: TEXT.id });
}

/** A list argument of at most `maxItems`, each item checked as `argument[i]`. */
export function listArg<T, R>(argument: string, values: readonly T[] | null | undefined, maxItems: number, item: (name: string, value: T) => R): R[] | undefined {
  if (values === null || values === undefined) return undefined;
  if (values.length > maxItems) throw bad(argument, `must have at most ${maxItems} items, got ${values.length}`, { maxItems });
  return values.map((v, i) => item(`${argument}[${i}]`, v));
}

/** How long a query waits for its run(s) before answering with progress. */
export function waitSecondsArg(value: number | null | undefined): number {
  return floatArg('waitSeconds', value, WAIT_SECONDS, 10);
}

export interface JsonRule {
  /** serialized size */
  maxBytes: number;
  maxDepth: number;
}

/** A JSON argument: bounded in size and depth, every string (keys too) free of NUL bytes and finite numbers. */
export function jsonArg(argument: string, value: unknown, rule: JsonRule): unknown {
  if (value === null || value === undefined) return value;
  const size = Buffer.byteLength(JSON.stringify(value) ?? '');
  if (size > rule.maxBytes) throw bad(argument, `must be at most ${rule.maxBytes} bytes of JSON, got ${size}`, { maxBytes: rule.maxBytes });
  const walk = (v: unknown, path: string, depth: number): void => {
    if (depth > rule.maxDepth) throw bad(path, `nests deeper than ${rule.maxDepth} levels`, { maxDepth: rule.maxDepth });
    if (typeof v === 'string') {
      if (v.includes('\0')) throw bad(path, 'must not contain a NUL byte (U+0000)', { nul: false });
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw bad(path, `must be a finite number, got ${v}`, {});
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`, depth + 1));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\0')) throw bad(path, 'has a key with a NUL byte (U+0000)', { nul: false });
        walk(x, `${path}.${k}`, depth + 1);
      }
    }
  };
  walk(value, argument, 0);
  return value;
}
