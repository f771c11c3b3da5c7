/**
 * The engine's readers outside the registration path (tokenizer, image
 * loading, variant export, safetensors headers, probe loading) use the same
 * confinement: a symlink out of the allowed folders or a FIFO is refused,
 * and JSON errors never quote the file.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/engine/checkpoint/index.js';
import { readSafetensorsHeader } from '../../src/engine/checkpoint/safetensors.js';
import { writeTinyTrio } from '../../src/engine/fixtures/index.js';
import { writeSquaresPng } from '../../src/engine/fixtures/probe-images.js';
import { FileAccessError } from '../../src/engine/fs/confined-files.js';
import { exportVariant } from '../../src/engine/merge/index.js';
import { loadImage } from '../../src/engine/model/image.js';
import { TextTokenizer } from '../../src/engine/model/tokenizer.js';
import { loadProbeSet } from '../../src/engine/probes/index.js';
import { CheckpointWeights } from '../../src/engine/runtime/weights.js';
import { withTempDir } from './probes-fixtures.js';

const SECRET = 'TOP-SECRET: the launch codes are 0000';
const vision = { inChannels: 3, fixed: { imageSize: [4, 4], imageMean: [0, 0, 0], imageStd: [1, 1, 1] } } as never;

async function layout(dir: string): Promise<{ inside: string; outside: string }> {
  const inside = join(dir, 'root');
  const outside = join(dir, 'outside');
  await mkdir(inside, { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, 'secret.txt'), SECRET);
  return { inside, outside };
}

describe('confined readers', () => {
  it('a tokenizer.json symlinked out of the checkpoint is refused', () =>
    withTempDir(async (dir) => {
      const { inside, outside } = await layout(dir);
      const { base } = await writeTinyTrio(join(inside, 'tiny'), { numLayers: 2 });
      await cp(join(base, 'tokenizer.json'), join(outside, 'tokenizer.json'));
      await rm(join(base, 'tokenizer.json'));
      await symlink(join(outside, 'tokenizer.json'), join(base, 'tokenizer.json'));
      await expect(TextTokenizer.load(base)).rejects.toThrow(/outside the allowed roots/);
    }));

  it('an image symlinked out of its folder is refused; a regular one inside loads', () =>
    withTempDir(async (dir) => {
      const { inside, outside } = await layout(dir);
      await writeSquaresPng(join(outside, 'a.png'), 2, 1);
      await writeSquaresPng(join(inside, 'b.png'), 2, 1);
      await symlink(join(outside, 'a.png'), join(inside, 'a.png'));
      await expect(loadImage(join(inside, 'a.png'), vision)).rejects.toThrow(/outside the allowed roots/);
      expect((await loadImage(join(inside, 'b.png'), vision)).length).toBe(3 * 4 * 4);
    }));

  it('a model whose generation_config.json leads out of its folder is refused at opening', () =>
    withTempDir(async (dir) => {
      const { inside, outside } = await layout(dir);
      const { base } = await writeTinyTrio(join(inside, 'tiny'), { numLayers: 2 });
      await symlink(join(outside, 'secret.txt'), join(base, 'generation_config.json'));
      const error = await CheckpointWeights.open(base).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FileAccessError);
      expect((error as FileAccessError).reason).toBe('OUTSIDE_ROOTS');
      expect((error as Error).message).not.toContain(SECRET);
    }));

  it('exporting does not copy a generation_config.json symlinked out of the base', () =>
    withTempDir(async (dir) => {
      const { inside, outside } = await layout(dir);
      const { base } = await writeTinyTrio(join(inside, 'tiny'), { numLayers: 2 });
      // the link appears after the weights were opened, so only the export's own copy can refuse it
      const weights = await CheckpointWeights.open(base);
      await symlink(join(outside, 'secret.txt'), join(base, 'generation_config.json'));
      try {
        const error = await exportVariant(weights, join(inside, 'exported'), { dtype: 'F32', copyFrom: base }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(FileAccessError);
        expect((error as FileAccessError).reason).toBe('OUTSIDE_ROOTS');
      } finally {
        await weights.close();
      }
    }));

  it('a safetensors header that is not JSON names line and column, not its bytes', () =>
    withTempDir(async (dir) => {
      const file = join(dir, 'bad.safetensors');
      const header = Buffer.from(SECRET);
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(header.length));
      await writeFile(file, Buffer.concat([length, header]));
      const error = (await readSafetensorsHeader(file).catch((e: unknown) => e)) as Error;
      expect(error.message).toMatch(/line 1, column 1/);
      expect(error.message).not.toContain('TOP-SECRET');
    }));

  it('a safetensors file symlinked out of its folder is refused', () =>
    withTempDir(async (dir) => {
      const { inside, outside } = await layout(dir);
      await writeSafetensors(join(outside, 'w.safetensors'), [{ name: 'w', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]);
      await symlink(join(outside, 'w.safetensors'), join(inside, 'w.safetensors'));
      await expect(readSafetensorsHeader(join(inside, 'w.safetensors'))).rejects.toBeInstanceOf(FileAccessError);
    }));

  it('a probes.jsonl that is a FIFO is refused at once', () =>
    withTempDir(async (dir) => {
      execFileSync('mkfifo', [join(dir, 'probes.jsonl')]);
      const error = await loadProbeSet(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FileAccessError);
      expect((error as FileAccessError).reason).toBe('NOT_A_FILE');
    }), 5_000);

  it('loading a registered set again is confined to the roots it is given', () =>
    withTempDir(async (dir) => {
      const { inside, outside } = await layout(dir);
      await writeFile(join(outside, 'probes.jsonl'), `${JSON.stringify({ id: 'q', split: 'reasoning', prompt: 'Hi?', answer: 'hi' })}\n`);
      await symlink(join(outside, 'probes.jsonl'), join(inside, 'probes.jsonl'));
      await expect(loadProbeSet(inside, { roots: [inside] })).rejects.toBeInstanceOf(FileAccessError);
      // the same file is fine where its real folder is allowed
      expect((await loadProbeSet(inside, { roots: [inside, outside] })).examples).toHaveLength(1);
      expect(await readFile(join(inside, 'probes.jsonl'), 'utf8')).toContain('"q"');
    }));
});
