import { EXAMPLE_COLUMNS, type FingerprintedExample } from './analysisColumns.js';
import { canonicalJson } from './canonicalJson.js';
import { toColumnArrays } from './columnSpecs.js';
import type { PlainRow } from './duckdbBinding.js';
import { inTransaction } from './inTransaction.js';
import { camelRow, pickInOrder, selectList } from './rowMapping.js';
import type { ExampleRow, ExamplesQuery, NewProbeSet, ProbeSetRow, SkippedExampleRow } from './types.js';
import type { WarehouseContext } from './WarehouseContext.js';

const UPDATABLE = ['name', 'format', 'root', 'fingerprint', 'n_examples', 'skipped_examples'];
const PROBE_SET_COLUMNS = ['id', ...UPDATABLE, 'registered_at'].join(', ');

/** probe_sets and examples. Examples are keyed by content fingerprint, like tensors. */
export class ProbeSetStore {
  constructor(private readonly context: WarehouseContext) {}

  /**
   * Registers (or refreshes) a probe set and replaces the examples of its
   * fingerprint, in one transaction: on any failure nothing is kept.
   * @throws RangeError when the set has no id or no examples
   */
  async upsert(set: NewProbeSet): Promise<void> {
    if (typeof set.id !== 'string' || set.id.length === 0) throw new RangeError(`upsertProbeSet: 'id' must be a non-empty string, got ${JSON.stringify(set.id)}`);
    if (set.examples.length === 0) throw new RangeError(`upsertProbeSet: probe set '${set.id}' has no examples`);
    const skipped = skippedJson(set);
    const rows: FingerprintedExample[] = set.examples.map((e) => ({ ...e, probeSetFingerprint: set.fingerprint }));
    const columns = toColumnArrays(EXAMPLE_COLUMNS, rows);
    await this.context.withDedicatedConnection((connection) =>
      inTransaction(connection, async () => {
        await connection.run(
          `INSERT INTO probe_sets (${PROBE_SET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET ${UPDATABLE.map((c) => `${c} = excluded.${c}`).join(', ')}`,
          [set.id, set.name ?? set.id, set.format, set.root, set.fingerprint, set.examples.length, skipped, set.registeredAt ?? this.context.now()],
        );
        await connection.run('DELETE FROM examples WHERE probe_set_fingerprint = ?', [set.fingerprint]);
        await connection.append('examples', EXAMPLE_COLUMNS, columns);
      }),
    );
  }

  async list(): Promise<ProbeSetRow[]> {
    const rows = await this.context.owner.all(`SELECT ${PROBE_SET_COLUMNS} FROM probe_sets ORDER BY id`);
    return rows.map(toProbeSet);
  }

  /** One statement for any number of ids; answers in request order. */
  async getMany(ids: readonly string[]): Promise<(ProbeSetRow | undefined)[]> {
    if (ids.length === 0) return [];
    const rows = await this.context.owner.all(`SELECT ${PROBE_SET_COLUMNS} FROM probe_sets WHERE id IN (SELECT unnest(?::VARCHAR[]))`, [[...ids]]);
    return pickInOrder(ids, rows.map(toProbeSet), (row) => row.id);
  }

  /** The distinct tasks and splits of a probe-set content, each sorted; empty lists for an unknown fingerprint. */
  async facets(fingerprint: string): Promise<{ tasks: string[]; splits: string[] }> {
    const rows = await this.context.owner.all(
      `SELECT coalesce(list_sort(list_distinct(list(task))), []) AS tasks, coalesce(list_sort(list_distinct(list(split))), []) AS splits
       FROM examples WHERE probe_set_fingerprint = ?`,
      [fingerprint],
    );
    return { tasks: (rows[0]?.tasks ?? []) as string[], splits: (rows[0]?.splits ?? []) as string[] };
  }

  /** A page of the examples of a registered probe set, by example_id; [] for an unknown id. */
  async examples(probeSetId: string, query: ExamplesQuery): Promise<ExampleRow[]> {
    const first = query.first ?? 100;
    if (!Number.isInteger(first) || first < 1 || first > 1000) {
      throw new RangeError(`examples: 'first' must be an integer in [1, 1000], got ${first}`);
    }
    const rows = await this.context.owner.all(
      `SELECT ${selectList(EXAMPLE_COLUMNS, 'e')} FROM examples e
       JOIN probe_sets p ON p.fingerprint = e.probe_set_fingerprint
       WHERE p.id = $set
         AND ($split::VARCHAR IS NULL OR e.split = $split)
         AND ($task::VARCHAR IS NULL OR e.task = $task)
         AND ($after::VARCHAR IS NULL OR e.example_id > $after)
       ORDER BY e.example_id LIMIT $first`,
      { set: probeSetId, split: query.split ?? null, task: query.task ?? null, after: query.after ?? null, first },
    );
    return rows.map(toExample);
  }
}

/**
 * The skipped list as stored: canonical JSON sorted by id.
 * @throws RangeError for an entry that is not {id, code, reason} strings, a repeated id, or an id also among the examples
 */
function skippedJson(set: NewProbeSet): string {
  const entries = [...(set.skipped ?? [])];
  const kept = new Set(set.examples.map((e) => e.id));
  const seen = new Set<string>();
  for (const [i, s] of entries.entries()) {
    if (typeof s?.id !== 'string' || typeof s.code !== 'string' || typeof s.reason !== 'string') {
      throw new RangeError(`upsertProbeSet: 'skipped[${i}]' of probe set '${set.id}' must have string id, code and reason`);
    }
    // an example both stored and listed as left out would make every count about the set wrong
    if (kept.has(s.id)) throw new RangeError(`upsertProbeSet: example '${s.id}' of probe set '${set.id}' is both stored and listed as skipped`);
    if (seen.has(s.id)) throw new RangeError(`upsertProbeSet: example '${s.id}' of probe set '${set.id}' is listed as skipped twice`);
    seen.add(s.id);
  }
  entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return canonicalJson(entries.map(({ id, code, reason }) => ({ id, code, reason })));
}

function toProbeSet(row: PlainRow): ProbeSetRow {
  const { skippedExamples, ...rest } = camelRow<Omit<ProbeSetRow, 'skipped'> & { skippedExamples: string }>(row);
  return { ...rest, skipped: JSON.parse(skippedExamples) as SkippedExampleRow[] };
}

function toExample(row: PlainRow): ExampleRow {
  const e = camelRow<ExampleRow & { images: string; answers: string; meta: string }>(row);
  return { ...e, images: JSON.parse(e.images) as unknown, answers: JSON.parse(e.answers) as unknown, meta: JSON.parse(e.meta) as unknown };
}
