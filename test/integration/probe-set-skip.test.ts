/**
 * registerProbeSet(skipInvalidExamples): off, an unusable image refuses the
 * set and stores nothing; on, the set registers without that example and
 * records it, with a fingerprint of its own.
 */
import { cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { writeCountingPairs } from '../helpers/probe-fixtures.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
}, 120_000);

afterAll(async () => {
  await t?.close();
});

const FIELDS = 'id exampleCount skippedCount skipped { id code reason } fingerprint';
const register = (path: string, name: string, skip?: boolean | null) =>
  t.execute<any>(`mutation($p: String!, $n: String, $s: Boolean) { registerProbeSet(path: $p, name: $n, skipInvalidExamples: $s) { ${FIELDS} } }`, { p: path, n: name, s: skip });
const sql = async (query: string): Promise<unknown[][]> => {
  const r = await t.execute<any>('query($q: String!) { sql(query: $q) { rows } }', { q: query });
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  return r.data.sql.rows;
};
const counts = () => sql('SELECT (SELECT count(*) FROM probe_sets), (SELECT count(*) FROM examples)');

/** Three counting pairs under the models root; the second pair's target image holds junk bytes. */
async function junkSet(name: string): Promise<string> {
  const dir = join(t.dir, 'models', 'probes', name);
  await writeCountingPairs(dir, 3);
  await writeFile(join(dir, 'counting', 'images', 'c1_t.png'), 'these bytes are no image');
  return dir;
}

describe('registerProbeSet with an unusable image', () => {
  test('by default (false, or null) the set is refused with BAD_IMAGE naming the file and example, and nothing is stored', async () => {
    await junkSet('junk-default');
    const before = await counts();
    for (const skip of [undefined, null, false]) {
      const r = await register('probes/junk-default', 'junk-default', skip);
      expect(r.errors?.[0]?.extensions, String(skip)).toMatchObject({ code: 'PROBE_SET_INVALID', reason: 'BAD_IMAGE' });
      const message = r.errors![0]!.message;
      expect(message).toContain("(example 'counting_000001')");
      expect(message).toContain("'target_image' = 'counting/images/c1_t.png'");
      expect(message).not.toContain('these bytes');
      expect(message).toContain('skipInvalidExamples: true');
    }
    expect(await counts()).toEqual(before);
  });

  test('with skipInvalidExamples the rest registers, and the set lists what it lacks in GraphQL and SQL', async () => {
    await junkSet('junk-skip');
    const r = await register('probes/junk-skip', 'junk-skip', true);
    expect(r.errors).toBeUndefined();
    const set = r.data.registerProbeSet;
    expect(set).toMatchObject({ id: 'junk-skip', exampleCount: 2, skippedCount: 1 });
    expect(set.skipped).toEqual([
      { id: 'counting_000001', code: 'BAD_IMAGE', reason: "'target_image' = 'counting/images/c1_t.png' is not a PNG or JPEG image that decodes (unsupported image format, or a truncated or corrupt file)" },
    ]);
    const examples = await t.execute<any>('{ probeSets { id examples { id } } }');
    expect(examples.data.probeSets.find((p: { id: string }) => p.id === 'junk-skip').examples.map((e: { id: string }) => e.id)).toEqual(['counting_000000', 'counting_000002']);
    const [row] = await sql("SELECT n_examples, skipped_examples->>'$[0].id', json_array_length(skipped_examples) FROM probe_sets WHERE id = 'junk-skip'");
    expect(row).toEqual([2, 'counting_000001', 1]);

    // an analysis reads the set back as registered: the damaged image is never read again
    await rm(join(t.dir, 'models', 'probes', 'junk-skip', 'counting', 'images', 'c1_t.png'));
    const loaded = await t.app.services.probeSets.load('junk-skip');
    expect(loaded.set.fingerprint).toBe(set.fingerprint);
    expect(loaded.set.examples.map((e) => e.id)).toEqual(['counting_000000', 'counting_000002']);
  });

  test('a repaired file registers as the complete set, with another fingerprint, and the record of the skip is gone', async () => {
    const dir = await junkSet('junk-repair');
    const partial = (await register('probes/junk-repair', 'junk-repair', true)).data.registerProbeSet;
    await writeCountingPairs(join(t.dir, 'models', 'probes', 'whole'), 3);
    await cp(join(t.dir, 'models', 'probes', 'whole', 'counting', 'images', 'c1_t.png'), join(dir, 'counting', 'images', 'c1_t.png'));
    const r = await register('probes/junk-repair', 'junk-repair', true);
    expect(r.errors).toBeUndefined();
    const complete = r.data.registerProbeSet;
    expect(complete).toMatchObject({ exampleCount: 3, skippedCount: 0, skipped: [] });
    expect(complete.fingerprint).not.toBe(partial.fingerprint);
    expect(await sql("SELECT skipped_examples FROM probe_sets WHERE id = 'junk-repair'")).toEqual([['[]']]);
  });

  test('the option leaves out only unusable images: a broken line or a symlink out of the roots still refuses the set', async () => {
    const broken = await junkSet('junk-and-bad-json');
    await writeFile(join(broken, 'counting', 'data.jsonl'), '{oops\n', { flag: 'a' });
    const bad = await register('probes/junk-and-bad-json', 'junk-and-bad-json', true);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'PROBE_SET_INVALID', reason: 'BAD_JSON' });

    const leaky = await junkSet('junk-and-leak');
    const outside = join(t.dir, 'outside');
    await mkdir(outside, { recursive: true });
    await cp(join(leaky, 'counting', 'images', 'c2_s.png'), join(outside, 'c2_s.png'));
    await rm(join(leaky, 'counting', 'images', 'c2_s.png'));
    await symlink(join(outside, 'c2_s.png'), join(leaky, 'counting', 'images', 'c2_s.png'));
    const leak = await register('probes/junk-and-leak', 'junk-and-leak', true);
    expect(leak.errors?.[0]?.extensions?.code).toBe('PATH_NOT_ALLOWED');

    const ids = (await t.execute<any>('{ probeSets { id } }')).data.probeSets.map((p: { id: string }) => p.id);
    expect(ids).not.toContain('junk-and-bad-json');
    expect(ids).not.toContain('junk-and-leak');
  });
});
