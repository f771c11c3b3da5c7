/**
 * Runs every analysis of a trio through the app's own GraphQL schema (the
 * API the dashboard reads) and collects the finished rows: each query is
 * sent with waitSeconds 0, which starts or joins its runs, and sent again
 * until it reports DONE; the numbers then come from the warehouse.
 */
import { graphql, type GraphQLSchema } from 'graphql';
import type { App } from '../app.js';
import { buildAppSchema } from '../resolvers/build-schema.js';
import { createRequestContext } from '../resolvers/context.js';
import { defaultMaxNewTokens } from '../services/analysis-options.js';

/** What the report covers. Ids are registered checkpoint and probe-set ids. */
export interface ReportRequest {
  base: string;
  sft: string;
  rl: string;
  /** probes.jsonl set with perception / alignment / reasoning splits */
  probes: string;
  /**
   * reference pair set for the visual-token swap and attention shift; without
   * it both use `probes`, and the swap is left out when `probes` holds no pairs
   */
  pairs?: string;
  /** RL checkpoints trained with a layer range frozen (necessity) [] */
  frozen?: string[];
  layerCuts?: [number, number];
  /** per task [all] */
  maxExamples?: number;
  /** generation budget [each probe set's default: defaultMaxNewTokens of its format] */
  maxNewTokens?: number;
  /**
   * called after every polling pass: analyses finished out of `total`, the
   * first one still running, and the mean progress (0..1) over all of them
   */
  onProgress?: (done: number, total: number, waiting: string, fraction: number) => void;
}

export interface LayerEffectRow {
  index: number | null;
  task: string;
  metric: string;
  value: number;
  ciLow: number | null;
  ciHigh: number | null;
  n: number;
}

export interface UpdateStats {
  froNorm: number;
  relativeNorm: number;
  effectiveRank: number;
  spectralNorm: number;
  conditionNumber: number;
}

export interface CharacterizationLayer {
  index: number;
  section: string;
  region: string | null;
  sft: UpdateStats;
  rl: UpdateStats;
  cosine: number | null;
  subspaceOverlap: number | null;
}

export interface GroupRow {
  key: string;
  sft: UpdateStats & { froNormSum: number | null };
  rl: UpdateStats & { froNormSum: number | null };
  cosine: number | null;
  tensorCount: number;
}

export interface ConditionScore {
  condition: string;
  task: string;
  accuracy: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  n: number;
}

export interface Transition {
  conditionA: string;
  conditionB: string;
  task: string;
  n: number;
  nTT: number;
  nTF: number;
  nFT: number;
  nFF: number;
  delta: number | null;
  deltaCiLow: number | null;
  deltaCiHigh: number | null;
  netGain: number;
  sideEffectRate: number | null;
  liftRate: number | null;
  mcnemarP: number;
}

export interface TransferRow {
  variant: string;
  setting: string;
  fingerprint: string;
  runId: string;
  conditions: ConditionScore[];
  transition: Transition | null;
}

export interface NecessityRow {
  variant: string;
  kind: string;
  region: string | null;
  setting: string;
  condition: string;
  accuracy: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  n: number;
  gainOverIn: number | null;
  shareOfRlGain: number | null;
}

export interface CheckpointInfo {
  id: string;
  name: string | null;
  fingerprint: string;
  path: string;
}

/** Everything the report shows, as returned by the API. */
export interface ReportData {
  request: Required<Omit<ReportRequest, 'onProgress' | 'layerCuts'>> & { layerCuts: [number, number] | null };
  checkpoints: CheckpointInfo[];
  probeSets: { id: string; format: string; fingerprint: string; exampleCount: number; skipped: { id: string; code: string; reason: string }[] }[];
  characterization: { runId: string; layers: CharacterizationLayer[]; regions: GroupRow[]; sections: GroupRow[] };
  /** null when no probe set with target/source pairs was given */
  swap: { sft: Analysis; rl: Analysis } | null;
  ablation: { sft: Analysis; rl: Analysis };
  attentionShift: Analysis;
  patching: Analysis;
  transferability: { runIds: string[]; rows: TransferRow[] };
  /** RL (A) against IN (B) on the same reasoning questions */
  rlVersusIn: Transition[];
  necessity: { runIds: string[]; rows: NecessityRow[] } | null;
}

export interface Analysis {
  runId: string;
  layers: LayerEffectRow[];
}

/** A GraphQL error answered by the API, with its code. */
export class ReportQueryError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'ReportQueryError';
  }
}

const STATS = 'froNorm relativeNorm effectiveRank spectralNorm conditionNumber';
const EFFECTS = 'layers { index task metric value ciLow ciHigh n }';
const TRANSITION = 'conditionA conditionB task n nTT nTF nFT nFF delta deltaCiLow deltaCiHigh netGain sideEffectRate liftRate mcnemarP';

const QUERIES = {
  characterization: `query($base: ID!, $sft: ID!, $rl: ID!, $cuts: [Int!]) {
    characterization(base: $base, sft: $sft, rl: $rl, options: { layerCuts: $cuts }, waitSeconds: 0) {
      status progress run { id status error }
      layers { index section region cosine subspaceOverlap sft { ${STATS} } rl { ${STATS} } }
      regions { key cosine tensorCount sft { ${STATS} froNormSum } rl { ${STATS} froNormSum } }
      sections { key cosine tensorCount sft { ${STATS} froNormSum } rl { ${STATS} froNormSum } } } }`,
  localization: `query($model: ID!, $probes: ID!, $method: LocalizationMethod!, $options: AnalysisOptions) {
    result: localization(model: $model, probeSet: $probes, method: $method, options: $options, waitSeconds: 0) {
      status progress run { id status error } ${EFFECTS} } }`,
  attentionShift: `query($a: ID!, $b: ID!, $probes: ID!, $options: AnalysisOptions) {
    result: attentionShift(a: $a, b: $b, probeSet: $probes, options: $options, waitSeconds: 0) {
      status progress run { id status error } ${EFFECTS} } }`,
  patching: `query($target: ID!, $source: ID!, $probes: ID!, $options: AnalysisOptions) {
    result: activationPatching(target: $target, source: $source, probeSet: $probes, options: $options, waitSeconds: 0) {
      status progress run { id status error } ${EFFECTS} } }`,
  transferability: `query($sft: ID!, $rl: ID!, $probes: ID!, $cuts: [Int!], $options: AnalysisOptions) {
    transferability(sft: $sft, rl: $rl, probeSet: $probes, layerCuts: $cuts, options: $options, waitSeconds: 0) {
      status progress runs { id status error }
      rows { variant setting fingerprint runId conditions { condition task accuracy ciLow ciHigh n } transition { ${TRANSITION} } } } }`,
  // the transitions stay empty until both scorings are DONE, so their runs are read too (a failed one must end the wait)
  versus: `query($sft: ID!, $rl: ID!, $probes: ID!, $options: AnalysisOptions) {
    rl: variant(recipe: { model: $rl }) {
      scores(probeSet: $probes, setting: REASONING, options: $options, waitSeconds: 0) { status progress run { id status error } }
      transitions(versus: { model: $sft }, probeSet: $probes, setting: REASONING, options: $options, waitSeconds: 0) { ${TRANSITION} } }
    in: variant(recipe: { model: $sft }) {
      scores(probeSet: $probes, setting: REASONING, options: $options, waitSeconds: 0) { status progress run { id status error } } } }`,
  necessity: `query($sft: ID!, $rl: ID!, $frozen: [ID!]!, $probes: ID!, $cuts: [Int!], $options: AnalysisOptions) {
    necessity(sft: $sft, rl: $rl, frozen: $frozen, probeSet: $probes, layerCuts: $cuts, options: $options, waitSeconds: 0) {
      status progress runs { id status error }
      rows { variant kind region setting condition accuracy ciLow ciHigh n gainOverIn shareOfRlGain } } }`,
  meta: `{ checkpoints { id name fingerprint path } probeSets { id format fingerprint exampleCount skipped { id code reason } } }`,
} as const;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Runs one operation in-process; errors become {@link ReportQueryError}. */
async function run(schema: GraphQLSchema, app: App, source: string, variables: Record<string, unknown>, what?: string): Promise<Json> {
  const result = await graphql({ schema, source, variableValues: variables, contextValue: createRequestContext(app.services) });
  if (result.errors?.length) {
    const e = result.errors[0]!;
    throw new ReportQueryError(what ? `${what}: ${e.message}` : e.message, e.extensions?.code as string | undefined);
  }
  return result.data as Json;
}

interface Pending {
  name: string;
  source: string;
  variables: Record<string, unknown>;
  /** the part of the answer that carries status/progress */
  pick: (data: Json) => Json;
  /** a settled answer: 'DONE', or a failure message */
  settled: (part: Json) => 'DONE' | string | null;
  result?: Json;
  /** the last progress reported (0..1) */
  progress: number;
}

function singleRun(part: Json): 'DONE' | string | null {
  if (part.status === 'DONE') return 'DONE';
  if (part.status === 'FAILED') return part.run?.error ?? 'failed';
  return null;
}

function gridRuns(part: Json): 'DONE' | string | null {
  const failed = (part.runs as Json[]).find((r) => r.status === 'FAILED');
  if (failed) return failed.error ?? 'a run failed';
  return part.status === 'DONE' ? 'DONE' : null;
}

function versusRuns(part: Json): 'DONE' | string | null {
  const scores = [part.rl.scores, part.in.scores] as Json[];
  const failed = scores.find((s) => s.status === 'FAILED');
  if (failed) return failed.run?.error ?? 'a scoring run failed';
  return scores.every((s) => s.status === 'DONE') && (part.rl.transitions as Json[]).length > 0 ? 'DONE' : null;
}

/**
 * Starts every analysis of the request and waits for all of them.
 * @throws ReportQueryError for an unknown id or bad option (before anything runs), or when a run fails
 */
export async function collectReport(app: App, request: ReportRequest, pollMs = 500): Promise<ReportData> {
  const schema = await buildAppSchema();
  const pairs = request.pairs ?? request.probes;
  const frozen = request.frozen ?? [];
  const cuts = request.layerCuts ?? null;
  // without a budget each analysis takes its probe set's default (docs/probe-sets.md: 1024 for MATH-500, 512 for GSM8K, else 128)
  const generation = { ...(request.maxNewTokens ? { maxNewTokens: request.maxNewTokens } : {}), ...(request.maxExamples ? { maxExamples: request.maxExamples } : {}) };
  const reasoning = { ...generation, split: 'reasoning' };
  const meta = await run(schema, app, QUERIES.meta, {});
  const known = new Set((meta.checkpoints as Json[]).map((c) => c.id));
  for (const id of [request.base, request.sft, request.rl, ...frozen]) {
    if (!known.has(id)) throw new ReportQueryError(`checkpoint '${id}' is not registered`, 'NOT_FOUND');
  }
  const sets = new Set((meta.probeSets as Json[]).map((p) => p.id));
  for (const id of [request.probes, pairs]) if (!sets.has(id)) throw new ReportQueryError(`probe set '${id}' is not registered`, 'NOT_FOUND');
  // only the reference format has target/source pairs; a set passed as --pairs is used as told (the API refuses a wrong one)
  const formatOf = (id: string): string => (meta.probeSets as Json[]).find((p) => p.id === id)!.format;
  const withSwap = request.pairs !== undefined || formatOf(pairs) === 'reference';

  const job = (name: string, source: string, variables: Record<string, unknown>, pick: Pending['pick'], settled: Pending['settled']): Pending =>
    ({ name, source, variables, pick, settled, progress: 0 });
  const localization = (name: string, model: string, probes: string, method: string, options: object): Pending =>
    job(name, QUERIES.localization, { model, probes, method, options }, (d) => d.result, singleRun);
  const jobs: Pending[] = [
    job('characterization', QUERIES.characterization, { base: request.base, sft: request.sft, rl: request.rl, cuts }, (d) => d.characterization, singleRun),
    ...(withSwap ? [localization('swap IN', request.sft, pairs, 'VISUAL_TOKEN_SWAP', generation), localization('swap RL', request.rl, pairs, 'VISUAL_TOKEN_SWAP', generation)] : []),
    localization('ablation IN', request.sft, request.probes, 'ZERO_ABLATION', reasoning),
    localization('ablation RL', request.rl, request.probes, 'ZERO_ABLATION', reasoning),
    job('attention shift', QUERIES.attentionShift, { a: request.sft, b: request.rl, probes: pairs, options: generation }, (d) => d.result, singleRun),
    job('activation patching', QUERIES.patching, { target: request.sft, source: request.rl, probes: request.probes, options: reasoning }, (d) => d.result, singleRun),
    job('transferability', QUERIES.transferability, { sft: request.sft, rl: request.rl, probes: request.probes, cuts, options: generation }, (d) => d.transferability, gridRuns),
    job('RL versus IN', QUERIES.versus, { sft: request.sft, rl: request.rl, probes: request.probes, options: generation },
      (d) => ({ ...d, progress: ((d.rl.scores.progress as number) + (d.in.scores.progress as number)) / 2 }), versusRuns),
  ];
  if (frozen.length > 0) {
    jobs.push(job('necessity', QUERIES.necessity, { sft: request.sft, rl: request.rl, frozen, probes: request.probes, cuts, options: generation }, (d) => d.necessity, gridRuns));
  }
  // every query starts its runs on the first pass; later passes only read status
  for (;;) {
    let done = 0;
    for (const job of jobs) {
      if (job.result) {
        done++;
        continue;
      }
      const part = job.pick(await run(schema, app, job.source, job.variables, job.name));
      job.progress = typeof part.progress === 'number' ? part.progress : 0;
      const state = job.settled(part);
      if (state === 'DONE') {
        job.result = part;
        job.progress = 1;
        done++;
      } else if (state !== null) {
        throw new ReportQueryError(`${job.name}: ${state}`, 'RUN_FAILED');
      }
    }
    const fraction = jobs.reduce((sum, j) => sum + j.progress, 0) / jobs.length;
    request.onProgress?.(done, jobs.length, jobs.find((j) => !j.result)?.name ?? '', fraction);
    if (done === jobs.length) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const byName = (name: string): Json => jobs.find((j) => j.name === name)!.result!;
  const analysis = (name: string): Analysis => ({ runId: byName(name).run.id, layers: byName(name).layers });
  const c = byName('characterization');
  const t = byName('transferability');
  const n = frozen.length > 0 ? byName('necessity') : null;
  const ids = new Set([request.base, request.sft, request.rl, ...frozen]);
  return {
    request: {
      base: request.base, sft: request.sft, rl: request.rl, probes: request.probes, pairs, frozen, layerCuts: cuts,
      maxExamples: request.maxExamples ?? 0,
      maxNewTokens: request.maxNewTokens ?? defaultMaxNewTokens(String((meta.probeSets as Json[]).find((p) => p.id === request.probes)?.format ?? '')),
    },
    checkpoints: (meta.checkpoints as CheckpointInfo[]).filter((x) => ids.has(x.id)),
    probeSets: (meta.probeSets as Json[]).filter((p) => p.id === request.probes || p.id === pairs) as ReportData['probeSets'],
    characterization: { runId: c.run.id, layers: c.layers, regions: c.regions, sections: c.sections },
    swap: withSwap ? { sft: analysis('swap IN'), rl: analysis('swap RL') } : null,
    ablation: { sft: analysis('ablation IN'), rl: analysis('ablation RL') },
    attentionShift: analysis('attention shift'),
    patching: analysis('activation patching'),
    transferability: { runIds: (t.runs as Json[]).map((r) => r.id), rows: t.rows },
    rlVersusIn: byName('RL versus IN').rl.transitions,
    necessity: n ? { runIds: (n.runs as Json[]).map((r) => r.id), rows: n.rows } : null,
  };
}
