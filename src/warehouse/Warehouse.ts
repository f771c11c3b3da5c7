import { AnalysisStore } from './AnalysisStore.js';
import { applyMigrations } from './applyMigrations.js';
import { CheckpointStore, type FingerprintCache } from './CheckpointStore.js';
import { openDatabase, type DbConnection, type DbInstance } from './duckdbBinding.js';
import { analysisDoneMessage, characterizationDoneMessage, unitsByWorkerSuffix } from './doneMessage.js';
import { FinishedResults, type FinishedPart, type FinishedEntry } from './FinishedResults.js';
import { inTransaction } from './inTransaction.js';
import { exportLake, type ExportSummary } from './lake/exportLake.js';
import { LakeWriter, type LakeOptions } from './lake/LakeWriter.js';
import { ProbeSetStore } from './ProbeSetStore.js';
import { RunStore, type NewRun } from './RunStore.js';
import { SqlDoor, type SqlDoorOptions } from './SqlDoor.js';
import { StatsStore } from './StatsStore.js';
import { UnitStore, type StagedUnit } from './UnitStore.js';
import type {
  AnalysisRows,
  CharacterizationRows,
  CheckpointRow,
  ExampleResultRow,
  ExampleResultsQuery,
  ExampleRow,
  ExamplesQuery,
  GroupStatRow,
  LayerEffectRow,
  LayerStatRow,
  NewProbeSet,
  ProbeSetRow,
  RunRow,
  RunStatus,
  SqlResult,
  TensorRow,
  TensorStatRow,
  TensorStatsQuery,
} from './types.js';
import { WarehouseError, errorMessage } from './WarehouseError.js';
import type { WarehouseContext } from './WarehouseContext.js';

/** How to open a warehouse. */
export interface WarehouseOptions {
  /** open without writing: no migrations (the schema must be current), no recovery, writes throw READ_ONLY */
  readOnly?: boolean;
  /** the clock, for tests; default `() => new Date()` */
  now?: () => Date;
  /** DuckDB memory_limit for the whole instance (door queries included); default '2GB' */
  memoryLimit?: string;
  /** SQL door queries that may run at once (more wait, within their timeout); default from the threadpool size (SqlDoor.ts) */
  doorSlots?: number;
  /** also write every DONE run and the reference tables as Parquet under this folder (lake/LakeWriter.ts); ignored read-only */
  lake?: LakeOptions;
}

/**
 * The results warehouse: one DuckDB file holding checkpoints, runs and their
 * results, plus the analysts' read-only SQL door. Open with `Warehouse.open`,
 * release with `closeSync`.
 */
export class Warehouse {
  /** every SQL statement this Warehouse sent for its callers, the lake's background reads left out (tests use it to prove batching) */
  statementCount = 0;
  readonly readOnly: boolean;
  readonly #instance: DbInstance;
  readonly #context: WarehouseContext;
  readonly #dedicated = new Set<DbConnection>();
  readonly #checkpoints: CheckpointStore;
  readonly #runs: RunStore;
  /** The runs a stopped process left QUEUED/RUNNING, marked FAILED when this warehouse opened. */
  interruptedAtOpen: readonly string[] = [];
  readonly #units: UnitStore;
  readonly #stats: StatsStore;
  readonly #probeSets: ProbeSetStore;
  readonly #analysis: AnalysisStore;
  readonly #door: SqlDoor;
  readonly #lake: LakeWriter | undefined;
  readonly #finished = new FinishedResults();
  /**
   * Checkpoint rows by id. This process holds the file's lock and
   * upsertCheckpoint is the only writer, so a row stays current until the
   * next upsert, which bumps the generation and drops it.
   */
  readonly #checkpointRows = new Map<string, CheckpointRow>();
  #checkpointGeneration = 0;

  private constructor(instance: DbInstance, owner: DbConnection, readOnly: boolean, now: () => Date, doorSlots?: number, lake?: LakeOptions) {
    this.#instance = instance;
    this.readOnly = readOnly;
    this.#context = { owner, readOnly, now, withDedicatedConnection: (work) => this.#withDedicatedConnection(work) };
    this.#checkpoints = new CheckpointStore(this.#context);
    this.#runs = new RunStore(this.#context);
    this.#units = new UnitStore(this.#context);
    this.#stats = new StatsStore(this.#context);
    this.#probeSets = new ProbeSetStore(this.#context);
    this.#analysis = new AnalysisStore(this.#context);
    this.#door = new SqlDoor(this.#context, doorSlots);
    this.#lake = lake && !readOnly ? new LakeWriter(lake, (work) => this.#withDedicatedConnection(work, false)) : undefined;
  }

  /**
   * Opens (creating if needed) the warehouse at `path` (':memory:' for tests),
   * applies pending migrations and marks runs a dead process left
   * QUEUED/RUNNING as FAILED ('interrupted: server stopped').
   * @throws WarehouseError WAREHOUSE_LOCKED when another process holds the file
   */
  static async open(path: string, options: WarehouseOptions = {}): Promise<Warehouse> {
    const readOnly = options.readOnly ?? false;
    const instance = await openDatabase(path, { readOnly, memoryLimit: options.memoryLimit });
    const counted: { warehouse?: Warehouse } = {};
    let owner: DbConnection | undefined;
    try {
      owner = await instance.connect(() => counted.warehouse && counted.warehouse.statementCount++);
      const warehouse = new Warehouse(instance, owner, readOnly, options.now ?? (() => new Date()), options.doorSlots, options.lake);
      counted.warehouse = warehouse;
      await applyMigrations(owner, { readOnly, now: warehouse.#context.now() });
      if (!readOnly) warehouse.interruptedAtOpen = await warehouse.#runs.recoverInterrupted();
      warehouse.#lake?.backfill();
      return warehouse;
    } catch (error) {
      owner?.closeSync();
      instance.closeSync();
      throw error;
    }
  }

  /**
   * Closes every connection and the database; blocks until DuckDB has
   * checkpointed. Queries still running (a door query, a transaction) are
   * interrupted first: closing alone would leave them running.
   */
  closeSync(): void {
    this.#lake?.closeSync();
    for (const connection of this.#dedicated) connection.interrupt();
    for (const connection of this.#dedicated) connection.closeSync();
    this.#dedicated.clear();
    this.#context.owner.closeSync();
    this.#instance.closeSync();
  }

  async #withDedicatedConnection<T>(work: (connection: DbConnection) => Promise<T>, counted = true): Promise<T> {
    const connection = await this.#instance.connect(() => counted && this.statementCount++);
    this.#dedicated.add(connection);
    try {
      return await work(connection);
    } finally {
      this.#dedicated.delete(connection);
      connection.closeSync();
    }
  }

  // checkpoints

  async upsertCheckpoint(c: CheckpointRow): Promise<void> {
    this.assertWritable('upsertCheckpoint');
    this.#checkpointGeneration++;
    this.#checkpointRows.delete(c.id);
    try {
      await this.#checkpoints.upsert(c);
      this.#lake?.referencesChanged();
    } finally {
      this.#checkpointGeneration++;
      this.#checkpointRows.delete(c.id);
    }
  }
  listCheckpoints(): Promise<CheckpointRow[]> {
    return this.#checkpoints.list();
  }
  /** Batch read for a DataLoader: answers in request order; rows read before come from memory, one statement for the rest. */
  async getCheckpoints(ids: readonly string[]): Promise<(CheckpointRow | undefined)[]> {
    const out = ids.map((id) => this.#checkpointRows.get(id));
    const missing = ids.filter((_, i) => out[i] === undefined);
    if (missing.length === 0) return out;
    const generation = this.#checkpointGeneration;
    const read = await this.#checkpoints.getMany(missing);
    // a row read while an upsert ran may be the old one: not kept
    if (generation === this.#checkpointGeneration) read.forEach((row) => row && this.#checkpointRows.set(row.id, row));
    let next = 0;
    return out.map((row) => row ?? read[next++]);
  }
  /** Registers a checkpoint: its row and its fingerprint's tensor list, in one transaction (a failure stores neither). */
  async registerCheckpoint(c: CheckpointRow, tensors: readonly TensorRow[]): Promise<void> {
    this.assertWritable('registerCheckpoint');
    await this.#checkpoints.register(c, tensors);
    this.#lake?.referencesChanged();
  }
  /** Replaces the tensor list stored for a checkpoint fingerprint (one transaction). */
  async upsertTensors(fingerprint: string, tensors: readonly TensorRow[]): Promise<void> {
    this.assertWritable('upsertTensors');
    await this.#checkpoints.upsertTensors(fingerprint, tensors);
    this.#lake?.referencesChanged();
  }
  tensors(fingerprint: string): Promise<TensorRow[]> {
    return this.#checkpoints.tensors(fingerprint);
  }
  fingerprintCache(): FingerprintCache {
    return this.#checkpoints.fingerprintCache();
  }

  // runs

  async findRunByCacheKey(cacheKey: string): Promise<RunRow | undefined> {
    const done = this.#finished.doneRunFor(cacheKey);
    if (done) return done;
    const row = await this.#runs.findByCacheKey(cacheKey);
    if (row) this.#finished.rememberRun(row);
    return row;
  }
  /** The latest run of a cache key that did not finish (FAILED or active), to resume from its staged units. */
  findUnfinishedRunByCacheKey(cacheKey: string): Promise<RunRow | undefined> {
    return this.#runs.findUnfinishedByCacheKey(cacheKey);
  }
  /** An unfinished run becomes RUNNING again at `progress`, error cleared. @throws WarehouseError RUN_NOT_FOUND for a DONE or unknown run */
  async resumeRun(id: string, progress: number): Promise<void> {
    this.assertWritable('resumeRun');
    this.#finished.forget(id);
    await this.#runs.resume(id, progress);
    this.#finished.forget(id);
  }
  /** Stores a finished unit's result bytes (encodeUnitResult) for its run; a unit staged twice keeps the first. */
  async stageUnit(runId: string, unit: Omit<StagedUnit, 'result'>, result: Uint8Array): Promise<void> {
    this.assertWritable('stageUnit');
    return this.#units.stage(runId, unit, result);
  }
  /** The units staged for a run, by unit index; none once the run is DONE. */
  stagedUnits(runId: string): Promise<StagedUnit[]> {
    return this.#units.staged(runId);
  }
  /** The request that started each of these runs (RunSpec.request), by run id; runs without one are left out. */
  runRequests(ids: readonly string[]): Promise<Map<string, unknown>> {
    return this.#runs.requests(ids);
  }
  /** A new run, RUNNING with progress 0. */
  async createRun(r: NewRun): Promise<RunRow> {
    this.assertWritable('createRun');
    return this.#runs.create(r);
  }
  /** @throws RangeError when progress is outside [0, 1]; WarehouseError RUN_NOT_FOUND when the run is not active */
  async updateRunProgress(id: string, progress: number, message?: string): Promise<void> {
    this.assertWritable('updateRunProgress');
    return this.#runs.updateProgress(id, progress, message);
  }
  async failRun(id: string, error: string): Promise<void> {
    this.assertWritable('failRun');
    return this.#runs.fail(id, error);
  }
  /** Finished runs come from memory (FinishedResults.ts); one statement for the others. */
  async getRuns(ids: readonly string[]): Promise<(RunRow | undefined)[]> {
    const out = ids.map((id) => this.#finished.run(id));
    const missing = ids.filter((_, i) => out[i] === undefined);
    if (missing.length === 0) return out;
    const read = await this.#runs.getMany(missing);
    read.forEach((row) => row && this.#finished.rememberRun(row));
    let next = 0;
    return out.map((row) => row ?? read[next++]);
  }
  listRuns(filter: { status?: RunStatus; first?: number } = {}): Promise<RunRow[]> {
    return this.#runs.list(filter);
  }

  /**
   * Stores a result and marks its run DONE in one transaction. If anything
   * fails, nothing of the result is kept, the run is marked FAILED with the
   * error (a separate statement after the rollback) and WRITE_FAILED is thrown.
   * @throws WarehouseError RUN_NOT_FOUND (run untouched) when the run is not QUEUED/RUNNING
   */
  async completeRun(id: string, result: CharacterizationRows): Promise<void> {
    this.assertWritable('completeRun');
    return this.#completeWith(id, characterizationDoneMessage(result), (connection) => this.#stats.append(connection, id, result));
  }

  /**
   * completeRun for the probing and transfer analyses: stores layer effects
   * and example results and marks the run DONE in one transaction, with the
   * same failure contract (nothing kept, run FAILED, WRITE_FAILED thrown).
   * @throws WarehouseError RUN_NOT_FOUND (run untouched) when the run is not QUEUED/RUNNING
   */
  async completeAnalysisRun(id: string, result: AnalysisRows): Promise<void> {
    this.assertWritable('completeAnalysisRun');
    return this.#completeWith(id, analysisDoneMessage(result), (connection) => this.#analysis.append(connection, id, result));
  }

  async #completeWith(id: string, message: string, store: (connection: DbConnection) => Promise<void>): Promise<void> {
    try {
      await this.#withDedicatedConnection((connection) =>
        inTransaction(connection, async () => {
          const workers = await this.#units.unitsByWorker(connection, id);
          // first write, so a run that is not active is refused before any row is written
          await this.#runs.markDone(connection, id, message + unitsByWorkerSuffix(workers));
          await store(connection);
          await this.#units.drop(connection, id);
        }),
      );
    } catch (error) {
      if (error instanceof WarehouseError && error.code === 'RUN_NOT_FOUND') throw error;
      const message = errorMessage(error);
      await this.#runs.failIfActive(id, message);
      throw new WarehouseError('WRITE_FAILED', `run '${id}' could not be stored and is now FAILED: ${message}`, { cause: error });
    }
    // committed: the lake copy follows in the background and cannot fail the run
    this.#lake?.runDone(id);
  }

  // characterization reads

  /** One list per id in request order: finished runs' from memory, one statement for the rest. */
  layerStats(runIds: readonly string[]): Promise<LayerStatRow[][]> {
    return this.#rememberedRows(runIds, 'layerStats', (ids) => this.#stats.layerStats(ids));
  }
  /** One list per id in request order: finished runs' from memory, one statement for the rest. */
  groupStats(runIds: readonly string[]): Promise<GroupStatRow[][]> {
    return this.#rememberedRows(runIds, 'groupStats', (ids) => this.#stats.groupStats(ids));
  }

  async #rememberedRows<P extends FinishedPart>(
    runIds: readonly string[],
    part: P,
    read: (ids: readonly string[]) => Promise<NonNullable<FinishedEntry[P]>[]>,
  ): Promise<NonNullable<FinishedEntry[P]>[]> {
    const out = runIds.map((id) => this.#finished.part(id, part));
    const missing = runIds.filter((_, i) => out[i] === undefined);
    if (missing.length === 0) return out as NonNullable<FinishedEntry[P]>[];
    const rows = await read(missing);
    missing.forEach((id, i) => this.#finished.rememberPart(id, part, rows[i]!));
    let next = 0;
    return out.map((r) => r ?? rows[next++]!) as NonNullable<FinishedEntry[P]>[];
  }
  /** A page of tensor rows; `first` counts tensors, `after` is the last tensor_name seen. */
  tensorStats(query: TensorStatsQuery): Promise<TensorStatRow[]> {
    return this.#stats.tensorStats(query);
  }

  // analysis results (probing, transfer)

  /** One list per id in request order (layerIndex null = no layer): finished runs' from memory, one statement for the rest. */
  layerEffects(runIds: readonly string[]): Promise<LayerEffectRow[][]> {
    return this.#rememberedRows(runIds, 'layerEffects', (ids) => this.#analysis.layerEffects(ids));
  }
  /** A page of example results; `first` counts examples, `after` is the last example_id seen. */
  exampleResults(query: ExampleResultsQuery): Promise<ExampleResultRow[]> {
    return this.#analysis.exampleResults(query);
  }

  // probe sets

  /**
   * Registers or refreshes a probe set (by id) and stores the examples of
   * its fingerprint, in one transaction: a failure stores nothing.
   * @throws RangeError when the set has no id or no examples; TypeError for an example JSON cannot hold;
   *   WarehouseError WRITE_FAILED when DuckDB refuses the rows (e.g. duplicate example ids)
   */
  async upsertProbeSet(set: NewProbeSet): Promise<void> {
    this.assertWritable('upsertProbeSet');
    try {
      await this.#probeSets.upsert(set);
      this.#lake?.referencesChanged();
    } catch (error) {
      if (error instanceof RangeError || error instanceof TypeError) throw error;
      throw new WarehouseError('WRITE_FAILED', `probe set '${set.id}' could not be stored; nothing of it was kept: ${errorMessage(error)}`, {
        cause: error,
      });
    }
  }
  listProbeSets(): Promise<ProbeSetRow[]> {
    return this.#probeSets.list();
  }
  /** Batch read for a DataLoader: one statement, answers in request order. */
  getProbeSets(ids: readonly string[]): Promise<(ProbeSetRow | undefined)[]> {
    return this.#probeSets.getMany(ids);
  }
  /** The distinct tasks and splits (each sorted) of the examples stored for a probe-set fingerprint; one statement. */
  probeSetFacets(fingerprint: string): Promise<{ tasks: string[]; splits: string[] }> {
    return this.#probeSets.facets(fingerprint);
  }
  /** A page of a probe set's examples by example_id, optionally one split/task; [] for an unknown id. */
  examples(probeSetId: string, query: ExamplesQuery = {}): Promise<ExampleRow[]> {
    return this.#probeSets.examples(probeSetId, query);
  }

  // Parquet lake

  /** Resolves once the lake has written everything queued so far (at once when there is no lake). */
  async lakeSettled(): Promise<void> {
    await this.#lake?.settled();
  }

  /**
   * Writes the whole warehouse as Parquet under `dir` (new or empty) in the
   * lake's layout, atomically as a whole; works read-only.
   * @throws LakeError EXPORT_TARGET_NOT_EMPTY | EXPORT_FAILED
   */
  exportParquet(dir: string, progress: (line: string) => void = () => undefined): Promise<ExportSummary> {
    return exportLake((work) => this.#withDedicatedConnection(work), dir, progress);
  }

  // SQL door

  /**
   * Runs one read-only statement for an analyst, bounded in rows and time.
   * @throws WarehouseError SQL_REFUSED | SQL_TIMEOUT | SQL_ERROR
   */
  readOnlySql(query: string, options?: SqlDoorOptions): Promise<SqlResult> {
    return this.#door.query(query, options);
  }

  private assertWritable(operation: string): void {
    if (this.readOnly) throw new WarehouseError('READ_ONLY', `${operation}: the warehouse was opened read-only`);
  }
}
