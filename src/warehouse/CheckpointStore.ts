import { TENSOR_COLUMNS, toColumnArrays, type FingerprintedTensor } from './columnSpecs.js';
import type { DbConnection, PlainRow } from './duckdbBinding.js';
import { inTransaction } from './inTransaction.js';
import { camelRow, pickInOrder } from './rowMapping.js';
import type { CheckpointRow, TensorRow } from './types.js';
import type { WarehouseContext } from './WarehouseContext.js';

const UPDATABLE = ['name', 'path', 'fingerprint', 'architecture', 'num_layers', 'num_vision_layers', 'parameter_count', 'dtype', 'config'];
const CHECKPOINT_COLUMNS = ['id', ...UPDATABLE, 'registered_at'].join(', ');

/** A cache from a file key (path, size, mtime) to its content fingerprint. */
export interface FingerprintCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, fingerprint: string): Promise<void>;
}

/** Checkpoints, their tensors, and the fingerprint cache. */
export class CheckpointStore {
  constructor(private readonly context: WarehouseContext) {}

  /** Inserts or refreshes a checkpoint by id; a refresh keeps the first registered_at. */
  async upsert(c: CheckpointRow, connection: DbConnection = this.context.owner): Promise<void> {
    await connection.run(`INSERT INTO checkpoints (${CHECKPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET ${UPDATABLE.map((column) => `${column} = excluded.${column}`).join(', ')}`, [
      c.id,
      c.name,
      c.path,
      c.fingerprint,
      c.architecture,
      c.numLayers,
      c.numVisionLayers,
      c.parameterCount,
      c.dtype,
      JSON.stringify(c.config ?? null),
      c.registeredAt ?? this.context.now(),
    ]);
  }

  async list(): Promise<CheckpointRow[]> {
    const rows = await this.context.owner.all(`SELECT ${CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY id`);
    return rows.map(toCheckpoint);
  }

  /** One statement for any number of ids; answers in request order. */
  async getMany(ids: readonly string[]): Promise<(CheckpointRow | undefined)[]> {
    if (ids.length === 0) return [];
    const rows = await this.context.owner.all(
      `SELECT ${CHECKPOINT_COLUMNS} FROM checkpoints WHERE id IN (SELECT unnest(?::VARCHAR[]))`,
      [[...ids]],
    );
    return pickInOrder(ids, rows.map(toCheckpoint), (row) => row.id);
  }

  /** Replaces the tensor list of one fingerprint, atomically. */
  async upsertTensors(fingerprint: string, tensors: readonly TensorRow[]): Promise<void> {
    await this.context.withDedicatedConnection((connection) => inTransaction(connection, () => this.#replaceTensors(connection, fingerprint, tensors)));
  }

  /**
   * The checkpoint row and its fingerprint's tensor list in one transaction,
   * so a failure half way never leaves a checkpoint whose tensors are missing.
   */
  async register(c: CheckpointRow, tensors: readonly TensorRow[]): Promise<void> {
    await this.context.withDedicatedConnection((connection) =>
      inTransaction(connection, async () => {
        await this.upsert(c, connection);
        await this.#replaceTensors(connection, c.fingerprint, tensors);
      }),
    );
  }

  async #replaceTensors(connection: DbConnection, fingerprint: string, tensors: readonly TensorRow[]): Promise<void> {
    const rows: FingerprintedTensor[] = tensors.map((t) => ({ ...t, checkpointFingerprint: fingerprint }));
    await connection.run('DELETE FROM tensors WHERE checkpoint_fingerprint = ?', [fingerprint]);
    await connection.append('tensors', TENSOR_COLUMNS, toColumnArrays(TENSOR_COLUMNS, rows));
  }

  async tensors(fingerprint: string): Promise<TensorRow[]> {
    const rows = await this.context.owner.all(
      'SELECT name, dtype, shape, layer_index, section, component FROM tensors WHERE checkpoint_fingerprint = ? ORDER BY name',
      [fingerprint],
    );
    return rows.map((row) => camelRow<TensorRow>(row));
  }

  fingerprintCache(): FingerprintCache {
    const owner = this.context.owner;
    return {
      get: async (key) => {
        const rows = await owner.all('SELECT fingerprint FROM fingerprint_cache WHERE file_key = ?', [key]);
        return rows.length === 0 ? undefined : String(rows[0]!.fingerprint);
      },
      set: async (key, fingerprint) => {
        await owner.run('INSERT OR REPLACE INTO fingerprint_cache (file_key, fingerprint) VALUES (?, ?)', [key, fingerprint]);
      },
    };
  }
}

function toCheckpoint(row: PlainRow): CheckpointRow {
  const c = camelRow<CheckpointRow & { config: string }>(row);
  return { ...c, config: JSON.parse(c.config) as unknown };
}
