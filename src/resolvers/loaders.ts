/**
 * Per-request DataLoaders: any number of runs, checkpoints or characterization
 * layers asked for in one request cost one SQL statement per kind.
 */
import DataLoader from 'dataloader';
import type { CheckpointRow, GroupStatRow, LayerEffectRow, LayerStatRow, ProbeSetRow, RunRow, Warehouse } from '../warehouse/index.js';

export interface Loaders {
  run: DataLoader<string, RunRow | undefined>;
  checkpoint: DataLoader<string, CheckpointRow | undefined>;
  layerStats: DataLoader<string, LayerStatRow[]>;
  groupStats: DataLoader<string, GroupStatRow[]>;
  layerEffects: DataLoader<string, LayerEffectRow[]>;
  probeSet: DataLoader<string, ProbeSetRow | undefined>;
}

export function createLoaders(warehouse: Warehouse): Loaders {
  return {
    run: new DataLoader((ids) => warehouse.getRuns(ids)),
    checkpoint: new DataLoader((ids) => warehouse.getCheckpoints(ids)),
    layerStats: new DataLoader((runIds) => warehouse.layerStats(runIds)),
    groupStats: new DataLoader((runIds) => warehouse.groupStats(runIds)),
    layerEffects: new DataLoader((runIds) => warehouse.layerEffects(runIds)),
    probeSet: new DataLoader((ids) => warehouse.getProbeSets(ids)),
  };
}
