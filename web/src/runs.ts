/**
 * Lazy computation as the dashboard sees it: an analysis query (sent with
 * waitSeconds 0) starts or joins its runs and answers at once; while they
 * compute, the dashboard polls `run(id)` for each unfinished run and shows
 * status and progress; once every run is DONE it asks the analysis query
 * again, which now answers from the warehouse.
 */
import { ApiError, request } from './api.js';
import { h } from './dom.js';
import { formatPercent } from './format.js';
import { CancelRunDocument, RunStatusDocument, type RunFieldsFragment } from './generated/graphql.js';

export type RunState = 'QUEUED' | 'RUNNING' | 'DONE' | 'FAILED';

/** What an analysis answer says about its computation. */
export interface Progressing {
  status: string;
  progress: number;
  runs: readonly RunFieldsFragment[];
}

export const POLL_INTERVAL_MS = 1000;

function finished(run: RunFieldsFragment): boolean {
  return run.status === 'DONE' || run.status === 'FAILED';
}

/** The combined state of a set of runs: FAILED if any failed, DONE if all are, else RUNNING (QUEUED if none started). */
export function combine(runs: readonly RunFieldsFragment[]): { status: RunState; progress: number } {
  if (runs.length === 0) return { status: 'DONE', progress: 1 };
  const progress = runs.reduce((sum, r) => sum + (r.status === 'DONE' ? 1 : r.progress), 0) / runs.length;
  if (runs.some((r) => r.status === 'FAILED')) return { status: 'FAILED', progress };
  if (runs.every((r) => r.status === 'DONE')) return { status: 'DONE', progress: 1 };
  if (runs.every((r) => r.status === 'QUEUED')) return { status: 'QUEUED', progress };
  return { status: 'RUNNING', progress };
}

/** Shows the status of an analysis's runs: a badge, a progress bar, what is computing, and a cancel button. */
export class RunStatusPanel {
  readonly element = h('div', { class: 'run-status', 'data-status': 'IDLE', role: 'status', 'aria-live': 'polite' });
  private readonly badge = h('span', { class: 'badge' }, 'idle');
  private readonly bar = h('progress', { max: 1, value: 0 });
  private readonly text = h('span', { class: 'run-text' });
  private readonly cancel = h('button', { type: 'button', class: 'secondary', 'data-action': 'cancel', hidden: true }, 'Cancel');
  private runs: readonly RunFieldsFragment[] = [];

  constructor(label: string) {
    this.element.append(h('strong', {}, label), this.badge, this.bar, this.text, this.cancel);
    this.cancel.addEventListener('click', () => void this.cancelRuns());
  }

  idle(note: string): void {
    this.set('IDLE', 0, note);
  }

  loading(): void {
    this.set('LOADING', 0, 'asking the server…');
  }

  show(state: { status: string; progress: number }, runs: readonly RunFieldsFragment[]): void {
    this.runs = runs;
    const done = runs.filter((r) => r.status === 'DONE').length;
    const current = runs.find((r) => r.status === 'RUNNING') ?? runs.find((r) => r.status === 'QUEUED');
    const failed = runs.find((r) => r.status === 'FAILED');
    const parts: string[] = [];
    if (runs.length > 1) parts.push(`${done}/${runs.length} runs done`);
    else if (runs[0]) parts.push(`run ${runs[0].id.slice(0, 8)}`);
    if (state.status === 'FAILED' && failed) parts.push(`failed: ${failed.error ?? 'no reason given'}`);
    else if (state.status === 'DONE') parts.push(runs.length === 1 && runs[0]!.finishedAt ? `finished ${new Date(runs[0]!.finishedAt).toLocaleString()}` : 'read from the warehouse');
    else if (current) parts.push(`${current.kind}: ${current.message ?? current.status.toLowerCase()} (polling run status every ${POLL_INTERVAL_MS / 1000} s)`);
    this.set(state.status, state.progress, parts.join(' · '));
  }

  error(message: string): void {
    this.set('ERROR', 0, message);
  }

  private set(status: string, progress: number, text: string): void {
    this.element.dataset.status = status;
    this.element.dataset.progress = String(progress);
    this.badge.textContent = status === 'RUNNING' || status === 'QUEUED' ? `${status.toLowerCase()} ${formatPercent(progress)}` : status.toLowerCase();
    this.badge.className = `badge ${status.toLowerCase()}`;
    this.bar.value = progress;
    this.bar.hidden = !(status === 'RUNNING' || status === 'QUEUED');
    this.text.textContent = text;
    this.cancel.hidden = !(status === 'RUNNING' || status === 'QUEUED');
  }

  private async cancelRuns(): Promise<void> {
    this.cancel.disabled = true;
    try {
      // a run may finish between the click and the request: that refusal is harmless
      await Promise.allSettled(this.runs.filter((r) => !finished(r)).map((r) => request(CancelRunDocument, { id: r.id })));
    } finally {
      this.cancel.disabled = false;
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException ? err.name === 'AbortError' : (err as { name?: string } | null)?.name === 'AbortError';
}

/**
 * Asks `load` (a start-or-join analysis query) until its runs are DONE,
 * polling `run(id)` in between. Returns the DONE answer, or null when a run
 * failed or the request errored (the panel then says why). Rejects only when
 * `signal` aborts (the view was left or re-run).
 */
export async function untilDone<T>(options: {
  load: () => Promise<T>;
  progressOf: (answer: T) => Progressing;
  panel: RunStatusPanel;
  signal: AbortSignal;
  intervalMs?: number;
}): Promise<T | null> {
  const { load, progressOf, panel, signal } = options;
  try {
    panel.loading();
    let answer = await load();
    let runs = [...progressOf(answer).runs];
    let state = combine(runs);
    panel.show(state, runs);
    while (state.status !== 'DONE') {
      if (state.status === 'FAILED') return null;
      await sleep(options.intervalMs ?? POLL_INTERVAL_MS, signal);
      // the model worker computes one run at a time: while some run is RUNNING the queued ones need no polling
      const running = new Set(runs.filter((r) => r.status === 'RUNNING').map((r) => r.id));
      runs = await Promise.all(
        runs.map(async (run) => {
          if (finished(run) || (running.size > 0 && !running.has(run.id))) return run;
          const { run: fresh } = await request(RunStatusDocument, { id: run.id }, signal);
          return fresh ?? { ...run, status: 'FAILED' as const, error: `run ${run.id} is no longer known to the server` };
        }),
      );
      state = combine(runs);
      panel.show(state, runs);
      if (state.status === 'DONE') {
        // every run is DONE: the same query now reads the rows from the warehouse
        answer = await load();
        runs = [...progressOf(answer).runs];
        state = combine(runs);
        panel.show(state, runs);
      }
    }
    return answer;
  } catch (err) {
    if (isAbort(err) || signal.aborted) throw err;
    panel.error(err instanceof ApiError ? `${err.message}${err.code ? ` (${err.code})` : ''}` : `the request failed: ${(err as Error).message}`);
    return null;
  }
}
