/** A worker reads a unit's checkpoint where it holds the same content: at the planned path, or under its own model roots. */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint } from '../../src/engine/checkpoint/index.js';
import { writePlantedTrio } from '../../src/engine/fixtures/index.js';
import { InputMismatch, InputVerifier } from '../../src/queue/input-verifier.js';
import { moduleHref, toJobData } from '../../src/queue/unit-jobs.js';

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
