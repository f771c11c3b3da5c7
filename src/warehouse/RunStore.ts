import { randomUUID } from 'node:crypto';
import { canonicalJson } from './canonicalJson.js';
import type { DbConnection, PlainRow } from './duckdbBinding.js';
import { camelRow, pickInOrder } from './rowMapping.js';
import type { RunRow, RunStatus } from './types.js';
import { WarehouseError } from './WarehouseError.js';
import type { WarehouseContext } from './WarehouseContext.js';

const RUN_COLUMNS =
  'id, kind, params, inputs, cache_key, status, progress, message, started_at, finished_at, engine_version, error';
const ACTIVE = "status IN ('QUEUED', 'RUNNING')";
/** The error of a run a stopped server left QUEUED or RUNNING. */
export const INTERRUPTED_MESSAGE = 'interrupted: server stopped';
const STATUSES: readonly RunStatus[] = ['QUEUED', 'RUNNING', 'DONE', 'FAILED'];

/** What a new run needs; params and inputs are stored as canonical JSON. */
export interface NewRun {
  kind: string;
  params: unknown;
  cacheKey: string;
  engineVersion: string;
  inputs: unknown;
  /** the service call that started the run, replayed to resume it after a restart */
  request?: unknown;
}

/** The runs table: lifecycle QUEUED/RUNNING -> DONE | FAILED. */
export class RunStore {
  constructor(private readonly context: WarehouseContext) {}

  /** The run to reuse for a cache key: a DONE one if any, else a QUEUED/RUNNING one; latest first. */
  async findByCacheKey(cacheKey: string): Promise<RunRow | undefined> {
    const rows = await this.context.owner.all(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE cache_key = ? AND status <> 'FAILED'
       ORDER BY (status = 'DONE') DESC, started_at DESC, id DESC LIMIT 1`,
      [cacheKey],
    );
    return rows.length === 0 ? undefined : toRun(rows[0]!);
  }

  /** The latest run of a cache key that did not finish (FAILED, QUEUED or RUNNING): the one a resumed run reuses. */
  async findUnfinishedByCacheKey(cacheKey: string): Promise<RunRow | undefined> {
    const rows = await this.context.owner.all(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE cache_key = ? AND status <> 'DONE' ORDER BY started_at DESC, id DESC LIMIT 1`,
      [cacheKey],
    );
    return rows.length === 0 ? undefined : toRun(rows[0]!);
  }

  /** A run that did not finish becomes RUNNING again (its error cleared), at `progress`; throws RUN_NOT_FOUND for a DONE or unknown run. */
  async resume(id: string, progress: number): Promise<void> {
    const changed = await this.context.owner.run(
      `UPDATE runs SET status = 'RUNNING', progress = ?, error = NULL, finished_at = NULL WHERE id = ? AND status <> 'DONE'`,
      [progress, id],
    );
    if (changed === 0) throw new WarehouseError('RUN_NOT_FOUND', `run '${id}' does not exist or is DONE; only an unfinished run resumes`);
  }

  async create(r: NewRun): Promise<RunRow> {
    const run: RunRow = {
      id: randomUUID(),
      kind: r.kind,
      params: JSON.parse(canonicalJson(r.params)) as unknown,
      inputs: JSON.parse(canonicalJson(r.inputs)) as unknown,
      cacheKey: r.cacheKey,
      status: 'RUNNING',
      progress: 0,
      message: null,
      startedAt: this.context.now(),
      finishedAt: null,
      engineVersion: r.engineVersion,
      error: null,
    };
    await this.context.owner.run(`INSERT INTO runs (${RUN_COLUMNS}, request) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      run.id,
      run.kind,
      canonicalJson(r.params),
      canonicalJson(r.inputs),
      run.cacheKey,
      run.status,
      run.progress,
      run.message,
      run.startedAt,
      run.finishedAt,
      run.engineVersion,
      run.error,
      // the arguments may be GraphQL input class instances: stored as the JSON they serialize to
      r.request === undefined ? null : canonicalJson(JSON.parse(JSON.stringify(r.request))),
    ]);
    return run;
  }

  async updateProgress(id: string, progress: number, message?: string): Promise<void> {
    if (!Number.isFinite(progress) || progress < 0 || progress > 1) {
      throw new RangeError(`updateRunProgress: 'progress' must be within [0, 1], got ${progress}`);
    }
    const changed = await this.context.owner.run(
      `UPDATE runs SET progress = ?, message = coalesce(?, message) WHERE id = ? AND ${ACTIVE}`,
      [progress, message ?? null, id],
    );
    if (changed === 0) throw notActive(id);
  }

  /** Marks an active run FAILED; throws RUN_NOT_FOUND when there is no such active run. */
  async fail(id: string, error: string): Promise<void> {
    if ((await this.failIfActive(id, error)) === 0) throw notActive(id);
  }

  /** Marks an active run FAILED; resolves to the number of runs changed (0 or 1). */
  failIfActive(id: string, error: string): Promise<number> {
    return this.context.owner.run(`UPDATE runs SET status = 'FAILED', error = ?, finished_at = ? WHERE id = ? AND ${ACTIVE}`, [
      error,
      this.context.now(),
      id,
    ]);
  }

  /** Inside completeRun's transaction: the run becomes DONE with its final message, or RUN_NOT_FOUND is thrown. */
  async markDone(connection: DbConnection, id: string, message: string): Promise<void> {
    const changed = await connection.run(
      `UPDATE runs SET status = 'DONE', progress = 1, message = ?, finished_at = ?, error = NULL WHERE id = ? AND ${ACTIVE}`,
      [message, this.context.now(), id],
    );
    if (changed === 0) throw notActive(id);
  }

  /** Runs a dead process left active: FAILED, 'interrupted: server stopped'. Resolves to their ids. */
  async recoverInterrupted(): Promise<string[]> {
    const rows = await this.context.owner.all(
      `UPDATE runs SET status = 'FAILED', error = ?, finished_at = ? WHERE ${ACTIVE} RETURNING id`,
      [INTERRUPTED_MESSAGE, this.context.now()],
    );
    return rows.map((row) => String(row.id));
  }

  /** The stored request of each run that has one, by run id. */
  async requests(ids: readonly string[]): Promise<Map<string, unknown>> {
    if (ids.length === 0) return new Map();
    const rows = await this.context.owner.all(
      `SELECT id, request FROM runs WHERE request IS NOT NULL AND id IN (SELECT unnest(?::VARCHAR[]))`,
      [[...ids]],
    );
    return new Map(rows.map((row) => [String(row.id), JSON.parse(String(row.request)) as unknown]));
  }

  async getMany(ids: readonly string[]): Promise<(RunRow | undefined)[]> {
    if (ids.length === 0) return [];
    const rows = await this.context.owner.all(`SELECT ${RUN_COLUMNS} FROM runs WHERE id IN (SELECT unnest(?::VARCHAR[]))`, [[...ids]]);
    return pickInOrder(ids, rows.map(toRun), (run) => run.id);
  }

  /** Newest first; `first` defaults to 50, at most 1000. */
  async list(filter: { status?: RunStatus; first?: number }): Promise<RunRow[]> {
    const first = filter.first ?? 50;
    if (!Number.isInteger(first) || first < 1 || first > 1000) {
      throw new RangeError(`listRuns: 'first' must be an integer in [1, 1000], got ${first}`);
    }
    if (filter.status !== undefined && !STATUSES.includes(filter.status)) {
      throw new RangeError(`listRuns: 'status' must be one of ${STATUSES.join(', ')}, got ${String(filter.status)}`);
    }
    const rows = await this.context.owner.all(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE ($status::VARCHAR IS NULL OR status = $status)
       ORDER BY started_at DESC, id DESC LIMIT $first`,
      { status: filter.status ?? null, first },
    );
    return rows.map(toRun);
  }
}

function notActive(id: string): WarehouseError {
  return new WarehouseError('RUN_NOT_FOUND', `run '${id}' does not exist or is no longer QUEUED/RUNNING`);
}

function toRun(row: PlainRow): RunRow {
  const run = camelRow<RunRow & { params: string; inputs: string }>(row);
  return { ...run, params: JSON.parse(run.params) as unknown, inputs: JSON.parse(run.inputs) as unknown };
}
