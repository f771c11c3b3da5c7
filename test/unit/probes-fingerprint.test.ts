import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProbeSet } from '../../src/engine/probes/index.js';
import { withTempDir, writeJsonlSet, writeReferenceRoot } from './probes-fixtures.js';

describe('probe-set fingerprint', () => {
  it('is the same for a copy of the folder elsewhere (reference format)', () =>
    withTempDir(async (dir) => {
      writeReferenceRoot(join(dir, 'one'));
      cpSync(join(dir, 'one'), join(dir, 'elsewhere', 'two'), { recursive: true });
      const a = await loadProbeSet(join(dir, 'one'));
      const b = await loadProbeSet(join(dir, 'elsewhere', 'two'));
      expect(a.root).not.toBe(b.root);
      expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(b.fingerprint).toBe(a.fingerprint);
    }));

  it('changes when one byte of one image changes, and back when restored', () =>
    withTempDir(async (dir) => {
      writeReferenceRoot(dir);
      const before = (await loadProbeSet(dir)).fingerprint;
      const image = join(dir, 'grounding', 'images', 'g0_s.png');
      const bytes = readFileSync(image);
      const edited = Buffer.from(bytes);
      edited[0] = edited[0]! ^ 1;
      writeFileSync(image, edited);
      expect((await loadProbeSet(dir)).fingerprint).not.toBe(before);
      writeFileSync(image, bytes);
      expect((await loadProbeSet(dir)).fingerprint).toBe(before);
    }));

  it('ignores line order and key order, not answers or prompts (jsonl format)', () =>
    withTempDir(async (dir) => {
      writeJsonlSet(dir);
      const file = join(dir, 'probes.jsonl');
      const base = (await loadProbeSet(dir)).fingerprint;
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      const reorder = (text: string) => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(text) as object).reverse()));
      writeFileSync(file, [...lines].reverse().map(reorder).join('\n') + '\n');
      expect((await loadProbeSet(dir)).fingerprint).toBe(base);
      writeFileSync(file, lines.map((l) => l.replace('"42"', '"43"')).join('\n') + '\n');
      expect((await loadProbeSet(dir)).fingerprint).not.toBe(base);
      writeFileSync(file, lines.map((l) => l.replace('What is 12 + 30?', 'What is 12+30?')).join('\n') + '\n');
      expect((await loadProbeSet(dir)).fingerprint).not.toBe(base);
    }));

  it('does not depend on the display name', () =>
    withTempDir(async (dir) => {
      writeJsonlSet(dir);
      expect((await loadProbeSet(dir, { name: 'x' })).fingerprint).toBe((await loadProbeSet(dir, { name: 'y' })).fingerprint);
    }));
});
