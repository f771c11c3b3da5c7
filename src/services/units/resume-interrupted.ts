/**
 * A server with a queue resumes, by itself, the runs a stopped server left
 * unfinished: each run's stored request (RunSpec.request) is replayed
 * through its service inside RunManager.rejoin, so it re-joins the same run
 * id and hands the queue only the units not staged yet. Without a queue the
 * interrupted runs stay FAILED until asked for again: the server's own model
 * thread would otherwise compute runs nobody may still want ahead of the
 * requests that come.
 */
import type { AnalysisService, AnalysisRequestOptions, LocalizationMethod } from '../analysis-service.js';
import type { CharacterizationRequest, CharacterizationService } from '../characterization-service.js';
import type { RunHandle, RunManager, RunRequest } from '../run-manager.js';
import type { VariantRequest, VariantService } from '../variant-service.js';
import type { Setting } from '../../engine/analyses/score-variant.js';
import type { Warehouse } from '../../warehouse/index.js';
import { QueueUnavailable } from './queue-unavailable.js';

export interface ResumableServices {
  warehouse: Warehouse;
  runs: RunManager;
  analyses: AnalysisService;
  characterizations: CharacterizationService;
  variants: VariantService;
}

/** What happened to one interrupted run. */
export interface ResumeOutcome {
  runId: string;
  /** 'resumed': running again under its id; 'done': another run of the same request had finished it; 'skipped': no stored request; 'refused': the replay failed (reason given) */
  outcome: 'resumed' | 'done' | 'skipped' | 'refused';
  reason?: string;
  handle?: RunHandle;
}

// the arguments come from the warehouse this server wrote; the services validate them again as for any client
type Replay = (services: ResumableServices, args: unknown[]) => Promise<RunHandle>;

/** Every service call that starts a run, by `service.method`: nothing else can be replayed. */
const REPLAYS: Record<string, Replay> = {
  'analyses.localization': (s, [model, probeSet, method, options]) =>
    s.analyses.localization(model as string, probeSet as string, method as LocalizationMethod, options as AnalysisRequestOptions),
  'analyses.attentionShift': (s, [a, b, probeSet, options]) => s.analyses.attentionShift(a as string, b as string, probeSet as string, options as AnalysisRequestOptions),
  'analyses.activationPatching': (s, [target, source, probeSet, options]) =>
    s.analyses.activationPatching(target as string, source as string, probeSet as string, options as AnalysisRequestOptions),
  'characterizations.start': (s, [request]) => s.characterizations.start(request as CharacterizationRequest),
  'variants.score': async (s, [variant, probeSet, setting, options]) =>
    s.variants.score(await s.variants.resolve(variant as VariantRequest), probeSet as string, setting as Setting, options as AnalysisRequestOptions),
};

export interface ResumeOptions {
  log?: (line: string) => void;
  /** while Redis does not answer, the replay is tried again this often (default 5000 ms) */
  retryMs?: number;
  /** stops the waiting for Redis (the server closes); the run is then left as it is */
  signal?: AbortSignal;
}

/**
 * Replays the stored requests of `runIds` one after another (each only
 * until its run is re-joined, not until it finishes) and logs each outcome.
 * A replay refused because Redis does not answer waits for it.
 */
export async function resumeInterruptedRuns(services: ResumableServices, runIds: readonly string[], options: ResumeOptions = {}): Promise<ResumeOutcome[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const requests = await services.warehouse.runRequests(runIds);
  const outcomes: ResumeOutcome[] = [];
  for (const runId of runIds) {
    const request = requests.get(runId) as RunRequest | undefined;
    const outcome = await resumeOne(services, runId, request, { ...options, log });
    log(`[frankenscope] interrupted run ${runId}: ${outcome.outcome}${outcome.reason ? ` (${outcome.reason})` : ''}`);
    outcomes.push(outcome);
  }
  return outcomes;
}

async function resumeOne(
  services: ResumableServices,
  runId: string,
  request: RunRequest | undefined,
  options: ResumeOptions & { log: (line: string) => void },
): Promise<ResumeOutcome> {
  if (!request) return { runId, outcome: 'skipped', reason: 'no stored request: it resumes when asked for again' };
  const replay = REPLAYS[`${request.service}.${request.method}`];
  if (!replay || !Array.isArray(request.args)) return { runId, outcome: 'refused', reason: `'${request.service}.${request.method}' is not a run request` };
  let waiting = false;
  for (;;) {
    try {
      const handle = await services.runs.rejoin(runId, () => replay(services, request.args));
      return { runId, outcome: handle.cached ? 'done' : 'resumed', handle };
    } catch (err) {
      if (!(err instanceof QueueUnavailable) || options.signal?.aborted) return { runId, outcome: 'refused', reason: (err as Error).message };
      if (!waiting) options.log(`[frankenscope] interrupted run ${runId} waits for the queue: ${err.message}`);
      waiting = true;
      await pause(options.retryMs ?? 5000, options.signal);
    }
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
