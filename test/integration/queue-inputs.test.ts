/** A worker reads a unit's checkpoint where it holds the same content: at the planned path, or under its own model roots. */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint } from '../../src/engine/checkpoint/index.js';
import { writePlantedTrio } from '../../src/engine/fixtures/index.js';
import { InputMismatch, InputVerifier } from '../../src/queue/input-verifier.js';
import { moduleHref, toJobData } from '../../src/queue/unit-jobs.js';
import { ProbeSetRegistry } from '../../src/services/probe-set-registry.js';
import { Warehouse } from '../../src/warehouse/index.js';
import { writeCountingPairs } from '../helpers/probe-fixtures.js';

describe('InputVerifier', () => {
  let dir: string;
  let base: string;
  let sft: string;
  let fingerprint: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'frankenscope-inputs-'));
    ({ base, sft } = await writePlantedTrio(join(dir, 'coordinator'), { dtype: 'F32' }));
    await cp(base, join(dir, 'worker-roots', 'mirror', 'base-copy'), { recursive: true });
    const checkpoint = await Checkpoint.open(base);
    fingerprint = await checkpoint.fingerprint();
    await checkpoint.close();
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keeps the planned path when the content there matches', async () => {
    const verifier = new InputVerifier([]);
    const input = { model: base };
    expect(await verifier.localize(input, [{ role: 'base', path: base, fingerprint }])).toBe(input);
  });

  it('rewrites the paths to a copy with the same fingerprint under its model roots', async () => {
    const verifier = new InputVerifier([join(dir, 'worker-roots')]);
    const gone = '/elsewhere/models/base';
    const local = await verifier.localize({ model: gone, files: [`${gone}/config.json`, '/elsewhere/models/base-other'] }, [{ role: 'base', path: gone, fingerprint }]);
    const copy = join(dir, 'worker-roots', 'mirror', 'base-copy');
    expect(local).toEqual({ model: copy, files: [`${copy}/config.json`, '/elsewhere/models/base-other'] });
  });

  it('refuses a unit when the planned path holds other content and no root holds a match', async () => {
    const verifier = new InputVerifier([join(dir, 'worker-roots')]);
    // the SFT checkpoint sits at the path the unit names, but the unit was planned on the base's content
    const refusal = await verifier.localize({ model: sft }, [{ role: 'sft', path: sft, fingerprint: fingerprint.replace(/^./, (c) => (c === '0' ? '1' : '0')) }]).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(InputMismatch);
    expect((refusal as Error).message).toContain(`input 'sft' (${sft}`);
    expect((refusal as Error).message).toContain(join(dir, 'worker-roots'));
  });
});

describe('InputVerifier on probe sets', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'frankenscope-input-probes-'));
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('matches the fingerprints the registry gives, with or without examples left out, and not a set changed since', async () => {
    const whole = join(dir, 'coordinator', 'whole');
    const damaged = join(dir, 'coordinator', 'damaged');
    await writeCountingPairs(whole, 3);
    await writeCountingPairs(damaged, 3);
    await writeFile(join(damaged, 'counting', 'images', 'c1_t.png'), 'these bytes are no image');
    const warehouse = await Warehouse.open(':memory:');
    let wholeRow, damagedRow;
    try {
      const registry = new ProbeSetRegistry(warehouse, [join(dir, 'coordinator')]);
      wholeRow = await registry.register(whole, 'whole');
      damagedRow = await registry.register(damaged, 'damaged', { skipInvalidExamples: true });
    } finally {
      warehouse.closeSync();
    }
    expect(damagedRow.skipped).toHaveLength(1);
    const verifier = new InputVerifier([]);
    expect(await verifier.fingerprintOf(whole)).toBe(wholeRow.fingerprint);
    expect(await verifier.fingerprintOf(damaged)).toBe(damagedRow.fingerprint);

    // a worker's copy of the whole set, elsewhere, is found under its roots
    await cp(whole, join(dir, 'worker', 'sets', 'whole'), { recursive: true });
    const roaming = new InputVerifier([join(dir, 'worker')]);
    expect(await roaming.localize({ root: '/gone/whole' }, [{ role: 'probes', path: '/gone/whole', fingerprint: wholeRow.fingerprint }])).toEqual({
      root: join(dir, 'worker', 'sets', 'whole'),
    });

    // an image of the whole set breaks after planning: its fingerprint no longer matches
    await writeFile(join(whole, 'counting', 'images', 'c2_t.png'), 'broken later');
    expect(await verifier.fingerprintOf(whole)).not.toBe(wholeRow.fingerprint);
  });
});

describe('unit modules on the queue', () => {
  const unit = { index: 2, exportName: 'f', input: null, inputs: [], label: 'u2' };

  it('travel relative to the package, so a worker installed elsewhere runs its own copy', () => {
    const data = toJobData('run', { ...unit, module: 'file:///opt/frankenscope/src/engine/analyses/ablation.ts' }, '/opt/frankenscope');
    expect(data.unit.packageModule).toBe('src/engine/analyses/ablation.ts');
    expect(moduleHref(data.unit.packageModule, '/home/w/frankenscope')).toBe('file:///home/w/frankenscope/src/engine/analyses/ablation.ts');
  });

  it('outside the package are refused on both ends', () => {
    expect(() => toJobData('run', { ...unit, module: 'file:///tmp/evil.ts' }, '/opt/frankenscope')).toThrow(
      'unit 2 (u2): module file:///tmp/evil.ts is outside the package /opt/frankenscope; queue workers only run package modules',
    );
    expect(() => moduleHref('../../tmp/evil.ts', '/home/w/frankenscope')).toThrow("module '../../tmp/evil.ts' is outside the package");
  });
});
