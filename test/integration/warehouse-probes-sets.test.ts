import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProbeSet, ProbeSetError, type ProbeSet } from '../../src/engine/probes/index.js';
import { WarehouseError, type NewProbeSet, type Warehouse } from '../../src/warehouse/index.js';
import { withTempDir, writeJsonlSet, writeReferenceRoot } from '../unit/probes-fixtures.js';
import { openDatabase } from '../../src/warehouse/duckdbBinding.js';
import { SCHEMA_V1 } from '../../src/warehouse/schemaV1.js';
import { SCHEMA_V2 } from '../../src/warehouse/schemaV2.js';
import { SCHEMA_V3 } from '../../src/warehouse/schemaV3.js';
import { MIGRATIONS } from '../../src/warehouse/migrations.js';
import { withFileWarehouse, withWarehouse } from './warehouse-fixtures.js';

/** An upgraded file records every migration, through the latest. */
const LATEST_LEDGER = MIGRATIONS.map((m) => m.version);

async function counts(w: Warehouse): Promise<[unknown, unknown]> {
  const answer = await w.readOnlySql('SELECT (SELECT count(*) FROM probe_sets), (SELECT count(*) FROM examples)');
  return [answer.rows[0]![0], answer.rows[0]![1]];
}

/** Loads a file probe set and registers it under `id` the way a service would. */
async function register(w: Warehouse, set: ProbeSet, id: string): Promise<void> {
  await w.upsertProbeSet({ ...set, id });
}

describe('probe sets in the warehouse', () => {
  it('stores a loaded set and its examples; reads them back page by page', () =>
    withTempDir((dir) =>
      withWarehouse(async (w) => {
        const set = await loadProbeSet(writeJsonlSet(dir), { name: 'demo probes' });
        await register(w, set, 'demo/probes');
        const [row] = await w.getProbeSets(['demo/probes']);
        expect(row).toMatchObject({ id: 'demo/probes', name: 'demo probes', format: 'jsonl', root: dir, fingerprint: set.fingerprint, nExamples: 4 });
        expect(row!.registeredAt).toBeInstanceOf(Date);

        const all = await w.examples('demo/probes');
        expect(all.map((e) => e.exampleId)).toEqual(['a1', 'g1', 'p1', 'r1']);
        const p1 = all.find((e) => e.exampleId === 'p1')!;
        const original = set.examples.find((e) => e.id === 'p1')!;
        expect(p1).toEqual({
          probeSetFingerprint: set.fingerprint,
          exampleId: 'p1',
          task: original.task,
          split: original.split,
          prompt: original.prompt,
          images: original.images,
          answers: original.answers,
          description: null,
          tags: [],
          meta: {},
        });
        expect(all.find((e) => e.exampleId === 'r1')!.tags).toEqual(['arith']);
        expect(all.find((e) => e.exampleId === 'g1')!.answers).toEqual({ target: [1, 2, 3, 4], source: null });

        const page1 = await w.examples('demo/probes', { first: 3 });
        const page2 = await w.examples('demo/probes', { first: 3, after: page1[2]!.exampleId });
        expect([...page1, ...page2].map((e) => e.exampleId)).toEqual(['a1', 'g1', 'p1', 'r1']);
        expect((await w.examples('demo/probes', { split: 'perception' })).map((e) => e.exampleId)).toEqual(['g1', 'p1']);
        expect((await w.examples('demo/probes', { split: 'perception', task: 'grounding' })).map((e) => e.exampleId)).toEqual(['g1']);
        expect(await w.examples('nope')).toEqual([]);
        expect(await w.probeSetFacets(set.fingerprint)).toEqual({ tasks: ['counting', 'free', 'grounding', 'numeric'], splits: ['alignment', 'perception', 'reasoning'] });
        expect(await w.probeSetFacets('unknown')).toEqual({ tasks: [], splits: [] });
        await expect(w.examples('demo/probes', { first: 0 })).rejects.toThrow(/'first'/);
      }),
    ));

  it('re-registering keeps the first registered_at; two ids with one content share examples', () => {
    let tick = Date.UTC(2026, 0, 1);
    return withTempDir((dir) =>
      withWarehouse(async (w) => {
        const set = await loadProbeSet(writeReferenceRoot(dir));
        await register(w, set, 'a');
        const first = (await w.getProbeSets(['a']))[0]!.registeredAt;
        await w.upsertProbeSet({ ...set, id: 'a', name: 'renamed' });
        await register(w, set, 'b');
        const [a, b, missing] = await w.getProbeSets(['a', 'b', 'missing']);
        expect(a!.registeredAt).toEqual(first);
        expect(a!.name).toBe('renamed');
        expect(b!.fingerprint).toBe(a!.fingerprint);
        expect(missing).toBeUndefined();
        expect((await w.listProbeSets()).map((s) => s.id)).toEqual(['a', 'b']);
        expect(await counts(w)).toEqual([2, 3]);
        expect((await w.examples('b')).map((e) => e.exampleId)).toEqual(['c0', 'c1', 'g0']);
      }, { now: () => new Date((tick += 1000)) }),
    );
  });

  it('a failing write stores nothing: duplicate example ids roll back the probe_sets row too', () =>
    withTempDir((dir) =>
      withWarehouse(async (w) => {
        const set = await loadProbeSet(writeJsonlSet(dir));
        const broken: NewProbeSet = { ...set, id: 'broken', examples: [...set.examples, set.examples[0]!] };
        const error = await w.upsertProbeSet(broken).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WarehouseError);
        expect((error as WarehouseError).code).toBe('WRITE_FAILED');
        expect((error as WarehouseError).message).toContain("'broken'");
        expect(await counts(w)).toEqual([0, 0]);
        await expect(w.upsertProbeSet({ ...set, id: 'x', examples: [] })).rejects.toThrow(RangeError);
        expect(await counts(w)).toEqual([0, 0]);
      }),
    ));

  it('a failed refresh leaves the previous registration as it was', () =>
    withTempDir((dir) =>
      withWarehouse(async (w) => {
        const set = await loadProbeSet(writeJsonlSet(dir));
        await register(w, set, 'demo');
        const before = await w.examples('demo');
        await expect(w.upsertProbeSet({ ...set, id: 'demo', name: 'new', examples: [...set.examples, set.examples[1]!] })).rejects.toThrow(WarehouseError);
        expect((await w.getProbeSets(['demo']))[0]!.name).toBe(set.name);
        expect(await w.examples('demo')).toEqual(before);
      }),
    ));

  it('bad probe files never reach the warehouse: each gives its error and nothing is stored', () =>
    withTempDir((dir) =>
      withWarehouse(async (w) => {
        const cases: [string, (root: string) => void, string][] = [
          ['missing image', (root) => rmSync(join(root, 'counting', 'images', 'c0_t.png')), 'MISSING_IMAGE'],
          ['bad JSON line', (root) => appendLine(root, '{oops'), 'BAD_JSON'],
          ['unknown task', (root) => appendLine(root, JSON.stringify({ id: 'z', task: 'colour', prompt: 'p', target_image: 'images/c0_t.png', source_image: 'images/c0_s.png', meta: {} })), 'UNKNOWN_TASK'],
          ['missing answer', (root) => appendLine(root, JSON.stringify({ id: 'z', task: 'ocr', prompt: 'p', target_image: 'images/c0_t.png', source_image: 'images/c0_s.png', meta: { target_text: 'a' } })), 'MISSING_ANSWER'],
        ];
        for (const [label, breakIt, code] of cases) {
          const root = writeReferenceRoot(join(dir, label.replaceAll(' ', '-')));
          breakIt(root);
          const error = await loadProbeSet(root)
            .then((set) => register(w, set, label))
            .catch((e: unknown) => e);
          expect(error, label).toBeInstanceOf(ProbeSetError);
          expect((error as ProbeSetError).code, label).toBe(code);
        }
        expect(await counts(w)).toEqual([0, 0]);
      }),
    ));
});

describe('probe sets registered without some examples', () => {
  it('the skipped list is stored with the set (sorted by id) and read back; a complete set reads []', () =>
    withTempDir((dir) =>
      withWarehouse(async (w) => {
        const set = await loadProbeSet(writeJsonlSet(dir));
        const kept = set.examples[0]!;
        const skipped = [
          { id: 'zz', code: 'MISSING_IMAGE', reason: "'image' = 'img/zz.png' does not exist" },
          { id: 'aa', code: 'BAD_IMAGE', reason: "'image' = 'img/aa.png' is not a PNG or JPEG image that decodes" },
        ];
        await w.upsertProbeSet({ ...set, id: 'partial', fingerprint: 'partial-fp', examples: [kept], skipped });
        await register(w, set, 'whole');
        const [partial, whole] = await w.getProbeSets(['partial', 'whole']);
        expect(partial).toMatchObject({ nExamples: 1, skipped: [skipped[1], skipped[0]] });
        expect(whole!.skipped).toEqual([]);
        expect((await w.listProbeSets()).map((s) => s.skipped.length)).toEqual([2, 0]);
        const raw = await w.readOnlySql("SELECT skipped_examples FROM probe_sets WHERE id = 'partial'");
        expect(raw.rows[0]![0]).toBe(JSON.stringify([skipped[1], skipped[0]].map(({ code, id, reason }) => ({ code, id, reason }))));
      }),
    ));

  it('a skipped list that contradicts the examples is refused and nothing is stored', () =>
    withTempDir((dir) =>
      withWarehouse(async (w) => {
        const set = await loadProbeSet(writeJsonlSet(dir));
        const id = set.examples[0]!.id;
        const entry = { id: 'x', code: 'BAD_IMAGE', reason: 'r' };
        await expect(w.upsertProbeSet({ ...set, id: 'a', skipped: [{ ...entry, id }] })).rejects.toThrow(/both stored and listed as skipped/);
        await expect(w.upsertProbeSet({ ...set, id: 'b', skipped: [entry, entry] })).rejects.toThrow(/listed as skipped twice/);
        await expect(w.upsertProbeSet({ ...set, id: 'c', skipped: [{ id: 'x' } as never] })).rejects.toThrow(/'skipped\[0\]'/);
        expect(await counts(w)).toEqual([0, 0]);
      }),
    ));
});

describe('migration 3', () => {
  it('upgrades a version-2 file: its probe sets keep their rows and read an empty skipped list', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'v2.duckdb');
      const instance = await openDatabase(path, { readOnly: false });
      const connection = await instance.connect(() => undefined);
      await connection.run('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)');
      for (const statement of [...SCHEMA_V1, ...SCHEMA_V2]) await connection.run(statement);
      await connection.run("INSERT INTO schema_migrations VALUES (1, 'v1', now()::TIMESTAMP), (2, 'v2', now()::TIMESTAMP)");
      await connection.run("INSERT INTO probe_sets VALUES ('old', 'old', 'jsonl', '/somewhere', 'fp', 4, now()::TIMESTAMP)");
      connection.closeSync();
      instance.closeSync();

      await withFileWarehouse(path, async (w) => {
        const ledger = await w.readOnlySql('SELECT version FROM schema_migrations ORDER BY version');
        expect(ledger.rows.map((r) => r[0])).toEqual(LATEST_LEDGER);
        expect(await w.getProbeSets(['old'])).toEqual([expect.objectContaining({ id: 'old', fingerprint: 'fp', nExamples: 4, skipped: [] })]);
        const column = await w.readOnlySql("SELECT data_type, is_nullable FROM information_schema.columns WHERE table_name = 'probe_sets' AND column_name = 'skipped_examples'");
        expect(column.rows).toEqual([['JSON', 'NO']]);
      });
    }));
});

describe('migration 4', () => {
  it('upgrades a version-3 file: rows, column order and constraints stay; gsm8k and math500 become valid formats', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'v3.duckdb');
      const instance = await openDatabase(path, { readOnly: false });
      const connection = await instance.connect(() => undefined);
      await connection.run('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)');
      for (const statement of [...SCHEMA_V1, ...SCHEMA_V2, ...SCHEMA_V3]) await connection.run(statement);
      await connection.run("INSERT INTO schema_migrations VALUES (1, 'v1', now()::TIMESTAMP), (2, 'v2', now()::TIMESTAMP), (3, 'v3', now()::TIMESTAMP)");
      await connection.run("INSERT INTO probe_sets VALUES ('old', 'old', 'reference', '/somewhere', 'fp', 4, '2026-01-02 03:04:05', '[{\"id\":\"x\",\"code\":\"BAD_IMAGE\",\"reason\":\"r\"}]')");
      const before = await connection.all("SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'probe_sets' ORDER BY ordinal_position");
      connection.closeSync();
      instance.closeSync();

      await withFileWarehouse(path, async (w) => {
        const ledger = await w.readOnlySql('SELECT version FROM schema_migrations ORDER BY version');
        expect(ledger.rows.map((r) => r[0])).toEqual(LATEST_LEDGER);
        expect(await w.getProbeSets(['old'])).toEqual([
          expect.objectContaining({ id: 'old', format: 'reference', fingerprint: 'fp', nExamples: 4, skipped: [{ id: 'x', code: 'BAD_IMAGE', reason: 'r' }] }),
        ]);
        const after = await w.readOnlySql("SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'probe_sets' ORDER BY ordinal_position");
        expect(after.rows).toEqual(before.map((r) => [r.column_name, r.data_type, r.is_nullable]));
      });
      const raw = await openDatabase(path, { readOnly: false });
      const c = await raw.connect(() => undefined);
      try {
        await c.run("INSERT INTO probe_sets VALUES ('g', 'g', 'gsm8k', '/g', 'fg', 2, now()::TIMESTAMP, '[]'), ('m', 'm', 'math500', '/m', 'fm', 3, now()::TIMESTAMP, '[]')");
        await expect(c.run("INSERT INTO probe_sets VALUES ('z', 'z', 'csv', '/z', 'fz', 1, now()::TIMESTAMP, '[]')")).rejects.toThrow(/CHECK/);
        await expect(c.run("INSERT INTO probe_sets VALUES ('old', 'o', 'jsonl', '/o', 'fo', 1, now()::TIMESTAMP, '[]')")).rejects.toThrow(/primary key|PRIMARY KEY|duplicate/i);
        await expect(c.run("INSERT INTO probe_sets VALUES ('e', 'e', 'jsonl', '/e', 'fe', 0, now()::TIMESTAMP, '[]')")).rejects.toThrow(/CHECK/);
        expect(await c.all('SELECT id FROM probe_sets ORDER BY id')).toEqual([{ id: 'g' }, { id: 'm' }, { id: 'old' }]);
      } finally {
        c.closeSync();
        raw.closeSync();
      }
    }));
});

function appendLine(root: string, line: string): void {
  appendFileSync(join(root, 'counting', 'data.jsonl'), line + '\n');
}
