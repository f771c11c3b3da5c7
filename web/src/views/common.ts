/** What every view gets, and the option fields the analysis views share. */
import { h, inputField, selectField, type Choice } from '../dom.js';
import type { AnalysisOptions, CatalogQuery, ScoringMode } from '../generated/graphql.js';
import { parseIntList, parsePositiveInt, type State } from '../state.js';

export type CheckpointInfo = CatalogQuery['checkpoints'][number];
export type ProbeSetInfo = CatalogQuery['probeSets'][number];

export interface ViewContext {
  catalog: CatalogQuery;
  state: State;
  trio: { base: string; sft: string; rl: string };
  probeSet: ProbeSetInfo | undefined;
  /** aborts when the view is left or rendered again */
  signal: AbortSignal;
  /**
   * Writes options into the URL. Form edits replace the URL without a new
   * history entry or a re-render; a Run pushes an entry and renders.
   */
  set(changes: Readonly<Record<string, string | number | null | undefined>>, options?: { mode?: 'push' | 'replace'; render?: boolean }): void;
}

export type View = (root: HTMLElement, ctx: ViewContext) => void;

export function checkpoint(ctx: ViewContext, id: string): CheckpointInfo | undefined {
  return ctx.catalog.checkpoints.find((c) => c.id === id);
}

/** "IN · demo/sft" for the trio's models, the id for any other. */
export function modelLabel(ctx: ViewContext, id: string): string {
  const role = id === ctx.trio.sft ? 'IN' : id === ctx.trio.rl ? 'RL' : id === ctx.trio.base ? 'Base' : null;
  return role ? `${role} · ${id}` : id;
}

export function modelChoices(ctx: ViewContext): Choice[] {
  return ctx.catalog.checkpoints.map((c) => ({ value: c.id, label: modelLabel(ctx, c.id) }));
}

/** Option keys in the URL, one per AnalysisOptions field the forms offer. */
export type OptionKey = 'maxExamples' | 'maxNewTokens' | 'split' | 'tasks' | 'layers' | 'scoring' | 'bootstrap';

/** AnalysisOptions from the URL state; only the options given are sent, so the server's defaults (and cache keys) apply otherwise. */
export function analysisOptions(state: State): AnalysisOptions {
  const options: AnalysisOptions = {};
  const maxExamples = parsePositiveInt(state.maxExamples, 'max examples');
  if (maxExamples !== null) options.maxExamples = maxExamples;
  const maxNewTokens = parsePositiveInt(state.maxNewTokens, 'max new tokens');
  if (maxNewTokens !== null) options.maxNewTokens = maxNewTokens;
  const bootstrap = parsePositiveInt(state.bootstrap, 'bootstrap samples');
  if (bootstrap !== null) options.bootstrapSamples = bootstrap;
  const layers = parseIntList(state.layers, 'layers');
  if (layers) options.layers = layers;
  if (state.split) options.split = state.split;
  if (state.tasks) options.tasks = state.tasks.split(',').map((t) => t.trim()).filter(Boolean);
  if (state.scoring === 'GENERATE' || state.scoring === 'TEACHER_FORCED') options.scoring = state.scoring as ScoringMode;
  return options;
}

/** Region cuts "a,b" from the URL, or null for the server's default thirds. */
export function layerCuts(state: State): [number, number] | null {
  const cuts = parseIntList(state.cuts, 'layer cuts');
  if (!cuts) return null;
  if (cuts.length !== 2) throw new RangeError(`'layer cuts' must be two integers 'a,b', got '${state.cuts}'`);
  return [cuts[0]!, cuts[1]!];
}

/** The form fields for the options named, bound to the URL state. */
export function optionFields(ctx: ViewContext, keys: readonly (OptionKey | 'cuts')[]): HTMLElement[] {
  const { state } = ctx;
  const set = (key: string) => (value: string) => ctx.set({ [key]: value });
  const fields: HTMLElement[] = [];
  for (const key of keys) {
    switch (key) {
      case 'maxExamples':
        fields.push(inputField('max examples per task', 'maxExamples', state.maxExamples ?? '', set('maxExamples'), { type: 'number', min: 1, placeholder: 'all', title: 'the first examples by id of each task' }));
        break;
      case 'maxNewTokens':
        fields.push(inputField('max new tokens', 'maxNewTokens', state.maxNewTokens ?? '', set('maxNewTokens'), { type: 'number', min: 1, max: 4096, placeholder: 'default', title: 'default by probe set: 128; GSM8K 512, MATH-500 1024' }));
        break;
      case 'bootstrap':
        fields.push(inputField('bootstrap samples', 'bootstrap', state.bootstrap ?? '', set('bootstrap'), { type: 'number', min: 1, placeholder: '1000' }));
        break;
      case 'split': {
        const splits = ctx.probeSet?.splits ?? [];
        fields.push(selectField('split', 'split', [{ value: '', label: 'all splits' }, ...splits.map((s) => ({ value: s, label: s }))], state.split ?? '', set('split')));
        break;
      }
      case 'tasks':
        fields.push(inputField('tasks', 'tasks', state.tasks ?? '', set('tasks'), { placeholder: (ctx.probeSet?.tasks ?? []).join(',') || 'all', title: 'comma-separated; empty for all' }));
        break;
      case 'layers':
        fields.push(inputField('layers', 'layers', state.layers ?? '', set('layers'), { placeholder: 'all', title: 'unified LLM indices 1..L, comma-separated' }));
        break;
      case 'scoring':
        fields.push(
          selectField(
            'scoring',
            'scoring',
            [
              { value: '', label: 'generate (default)' },
              { value: 'TEACHER_FORCED', label: 'teacher forced' },
            ],
            state.scoring ?? '',
            set('scoring'),
          ),
        );
        break;
      case 'cuts':
        fields.push(inputField('region cuts', 'cuts', state.cuts ?? '', set('cuts'), { placeholder: 'N/3,2N/3', title: "0-based LLM layer cuts 'a,b': 0..a-1 early, a..b-1 middle, b.. late" }));
        break;
    }
  }
  return fields;
}

/** The Run button: marks the view as run in the URL (so a shared link computes the same) and renders. */
export function runButton(ctx: ViewContext, label = 'Run'): HTMLButtonElement {
  return h('button', { type: 'button', class: 'primary', 'data-action': 'run', onclick: () => ctx.set({ run: '1' }, { mode: 'push', render: true }) }, label);
}

export function section(title: string, ...children: (Node | null)[]): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}

export function errorNote(message: string): HTMLElement {
  return h('p', { class: 'error', role: 'alert' }, message);
}
