/**
 * The characterization use case shared by GraphQL and the CLI: validate the
 * request, key it, and run it once as a plan of tensor-range work units
 * (engine/characterize/units.ts) computed by the run manager's executor.
 */
import { Checkpoint } from '../engine/checkpoint/index.js';
import { plannedTensors, TrioMismatchError, type CharacterizationResult } from '../engine/characterize/characterize.js';
import { planCharacterization } from '../engine/characterize/units.js';
import { defaultLayerCuts, validateLayerCuts } from '../engine/layout.js';
import type { CheckpointRow, Warehouse } from '../warehouse/index.js';
import type { CheckpointRegistry } from './checkpoint-registry.js';
import { toCharacterizationRows } from './characterization-rows.js';
import { InvalidArgument, UnknownCheckpoint } from './errors.js';
import type { RunHandle, RunManager } from './run-manager.js';

export interface CharacterizationRequest {
  base: string;
  sft: string;
  rl: string;
  options?: { weightFilter?: string | null; topK?: number | null; layerCuts?: readonly number[] | null } | null;
}

export const MAX_TOP_K = 4096;

export class CharacterizationService {
  /**
   * Trios (by content fingerprints) and weight filters already found to
   * match: the check opens all three checkpoints, and its answer cannot
   * change while the fingerprints stay the same.
   */
  private readonly checkedTrios = new Set<string>();

  constructor(
    private readonly warehouse: Warehouse,
    private readonly registry: CheckpointRegistry,
    private readonly runs: RunManager,
  ) {}

  private async load(ids: { base: string; sft: string; rl: string }): Promise<Record<'base' | 'sft' | 'rl', CheckpointRow>> {
    const roles = ['base', 'sft', 'rl'] as const;
    const rows = await this.warehouse.getCheckpoints(roles.map((r) => ids[r]));
    const out = {} as Record<'base' | 'sft' | 'rl', CheckpointRow>;
    for (const [i, role] of roles.entries()) {
      const row = rows[i];
      if (!row) throw new UnknownCheckpoint(ids[role], role);
      out[role] = await this.registry.refresh(row);
    }
    return out;
  }

  /** Validates, then starts or joins the run. Errors: UnknownCheckpoint, InvalidArgument, checkpoint errors. */
  async start(request: CharacterizationRequest): Promise<RunHandle> {
    const options = request.options ?? {};
    const topK = options.topK ?? 50;
    if (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K) {
      throw new InvalidArgument('options.topK', `'topK' must be an integer from 1 to ${MAX_TOP_K}, got ${topK}`);
    }
    const weightFilter = options.weightFilter ? options.weightFilter : null;
    if (weightFilter !== null && weightFilter.length > 200) throw new InvalidArgument('options.weightFilter', `'weightFilter' is longer than 200 characters`);
    const rows = await this.load(request);
    let layerCuts: [number, number];
    try {
      layerCuts = options.layerCuts ? validateLayerCuts(options.layerCuts, rows.sft.numLayers) : defaultLayerCuts(rows.sft.numLayers);
    } catch (err) {
      throw new InvalidArgument('options.layerCuts', (err as Error).message);
    }
    await this.checkTrio(rows, weightFilter);
    const params = { topK, weightFilter, layerCuts };
    return this.runs.startOrJoin<CharacterizationResult>({
      kind: 'characterization',
      params,
      inputs: (['base', 'sft', 'rl'] as const).map((role) => ({ role, id: rows[role].id, fingerprint: rows[role].fingerprint })),
      plan: () => planCharacterization({
        trio: { base: { path: rows.base.path, fingerprint: rows.base.fingerprint }, sft: { path: rows.sft.path, fingerprint: rows.sft.fingerprint }, rl: { path: rows.rl.path, fingerprint: rows.rl.fingerprint } },
        ...params,
      }),
      request: { service: 'characterizations', method: 'start', args: [request] },
      store: (warehouse, runId, result) => warehouse.completeRun(runId, toCharacterizationRows(result)),
    });
  }

  /** Header-only check that the trio matches, so a bad request fails before a run exists. */
  private async checkTrio(rows: Record<'base' | 'sft' | 'rl', CheckpointRow>, weightFilter: string | null): Promise<void> {
    const key = JSON.stringify([rows.base.fingerprint, rows.sft.fingerprint, rows.rl.fingerprint, weightFilter]);
    if (this.checkedTrios.has(key)) return;
    await this.openAndCheckTrio(rows, weightFilter);
    // bounded: a long-lived server meets few distinct trios, but never grows without end
    if (this.checkedTrios.size >= 1000) this.checkedTrios.clear();
    this.checkedTrios.add(key);
  }

  private async openAndCheckTrio(rows: Record<'base' | 'sft' | 'rl', CheckpointRow>, weightFilter: string | null): Promise<void> {
    const opened = await Promise.all([Checkpoint.open(rows.base.path), Checkpoint.open(rows.sft.path), Checkpoint.open(rows.rl.path)]);
    try {
      const [base, sft, rl] = opened as [Checkpoint, Checkpoint, Checkpoint];
      const names = plannedTensors(base, sft, rl, weightFilter);
      if (names.length === 0) {
        throw new InvalidArgument('options.weightFilter', weightFilter
          ? `'weightFilter' '${weightFilter}' matches no tensor with two or more dimensions`
          : 'the checkpoints hold no tensor with two or more dimensions');
      }
    } catch (err) {
      if (err instanceof TrioMismatchError) throw new InvalidArgument('base/sft/rl', err.message);
      throw err;
    } finally {
      await Promise.all(opened.map((c) => c.close()));
    }
  }
}
