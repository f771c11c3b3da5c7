/**
 * The dashboard's state lives in the URL, so any view can be shared:
 * `#view=localization&base=demo/base&sft=demo/sft&rl=demo/rl&probes=demo/pairs&analysis=swap&maxExamples=4&run=1`.
 * The hash is what the dashboard writes; parameters in the query string
 * (`/?view=necessity`) are read too, the hash winning. The parsing and
 * formatting functions are pure; `readLocation`/`writeLocation` touch the window.
 */

export const VIEWS = ['characterization', 'localization', 'transferability', 'necessity'] as const;
export type ViewName = (typeof VIEWS)[number];

/** Keys every view shares; switching views keeps these and drops the rest. */
export const SHARED_KEYS = ['view', 'base', 'sft', 'rl', 'probes'] as const;

/** Every value is a string; an absent key means "the default". */
export type State = Readonly<Record<string, string>>;

/** Reads `a=1&b=2` (with or without a leading `#` or `?`); empty values are dropped. */
export function parseState(text: string): State {
  const params = new URLSearchParams(text.replace(/^[#?]/, ''));
  const state: Record<string, string> = {};
  for (const [key, value] of params) if (value !== '') state[key] = value;
  return state;
}

/** The hash for a state: shared keys first in their fixed order, then the rest sorted, so equal states give equal URLs. */
export function formatState(state: State): string {
  const shared: readonly string[] = SHARED_KEYS;
  const keys = [...SHARED_KEYS.filter((k) => state[k] !== undefined), ...Object.keys(state).filter((k) => !shared.includes(k)).sort()];
  const params = new URLSearchParams();
  for (const key of keys) params.set(key, state[key]!);
  // ids like demo/base read better with their slashes kept; '/' is legal in a fragment
  return `#${params.toString().replace(/%2F/gi, '/')}`;
}

export function viewOf(state: State): ViewName {
  return (VIEWS as readonly string[]).includes(state.view ?? '') ? (state.view as ViewName) : 'characterization';
}

/** Applies changes: a null, undefined or empty value removes the key. */
export function patchState(state: State, changes: Readonly<Record<string, string | number | null | undefined>>): State {
  const next: Record<string, string> = { ...state };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === '') delete next[key];
    else next[key] = String(value);
  }
  return next;
}

/** The state of another view: the shared keys are kept, the view's own options reset. */
export function switchView(state: State, view: ViewName): State {
  const next: Record<string, string> = {};
  for (const key of SHARED_KEYS) if (state[key] !== undefined) next[key] = state[key]!;
  next.view = view;
  return next;
}

/** A comma list ("1, 3,6") as integers; null when empty; throws on anything else. */
export function parseIntList(text: string | undefined, name: string): number[] | null {
  if (text === undefined || text.trim() === '') return null;
  return text.split(',').map((part) => {
    const value = Number(part.trim());
    if (!Number.isInteger(value)) throw new RangeError(`'${name}' must be a comma-separated list of integers, got '${text}'`);
    return value;
  });
}

/** A positive integer option; null when absent; throws on anything else. */
export function parsePositiveInt(text: string | undefined, name: string): number | null {
  if (text === undefined || text.trim() === '') return null;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`'${name}' must be a positive integer, got '${text}'`);
  return value;
}

/** The trio when the URL names none: ids ending in /base, /sft (or /in) and /rl, else the first checkpoints. */
export function defaultTrio(ids: readonly string[]): { base: string; sft: string; rl: string } {
  const bySuffix = (...roles: string[]) => ids.find((id) => roles.some((r) => id === r || id.endsWith(`/${r}`)));
  return {
    base: bySuffix('base') ?? ids[0] ?? '',
    sft: bySuffix('sft', 'in') ?? ids[1] ?? ids[0] ?? '',
    rl: bySuffix('rl') ?? ids[2] ?? ids[0] ?? '',
  };
}

/** The state in the current URL (query string, then hash). */
export function readLocation(): State {
  return { ...parseState(window.location.search), ...parseState(window.location.hash) };
}

/** Writes the state into the URL: `push` makes a history entry (back returns to it), `replace` does not. */
export function writeLocation(state: State, mode: 'push' | 'replace'): void {
  const url = `${window.location.pathname}${formatState(state)}`;
  if (mode === 'push') window.history.pushState(null, '', url);
  else window.history.replaceState(null, '', url);
}
