/** The warehouse's public surface. Nothing outside src/warehouse imports DuckDB. */
export { Warehouse, type WarehouseOptions } from './Warehouse.js';
export { WarehouseError, type WarehouseErrorCode } from './WarehouseError.js';
export { LakeError, type LakeErrorCode } from './lake/LakeError.js';
export type { LakeOptions } from './lake/LakeWriter.js';
export type { ExportSummary } from './lake/exportLake.js';
export { cacheKey, type CacheKeyParts } from './cacheKey.js';
export { canonicalJson } from './canonicalJson.js';
export { SCHEMA_VERSION } from './migrations.js';
export { NO_LAYER_INDEX } from './schemaV2.js';
export type { FingerprintCache } from './CheckpointStore.js';
export type { NewRun } from './RunStore.js';
export type { StagedUnit } from './UnitStore.js';
export type { SqlDoorOptions } from './SqlDoor.js';
export type * from './types.js';
