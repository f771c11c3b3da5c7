import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson } from '../../src/warehouse/index.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('canonicalJson', () => {
  it('sorts keys recursively and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  it('drops undefined properties the way JSON.stringify does, keeps array order', () => {
    expect(canonicalJson({ a: undefined, b: [2, 1] })).toBe('{"b":[2,1]}');
  });

  it('refuses values JSON cannot hold, naming where they are', () => {
    expect(() => canonicalJson({ p: { k: Number.NaN } })).toThrow(/'\$\.p\.k' is NaN/);
    expect(() => canonicalJson({ when: new Date(0) })).toThrow(/'\$\.when' is a Date/);
    expect(() => canonicalJson([1n])).toThrow(/'\$\[0\]' is a bigint/);
  });
});

describe('cacheKey', () => {
  const parts = { kind: 'characterize', params: { topK: 8, cuts: [4, 8] }, inputFingerprints: ['fa', 'fb', 'fc'], engineVersion: '0.1.0' };

  it('is the sha256 of the canonical JSON of the parts', () => {
    const text = '{"engineVersion":"0.1.0","inputFingerprints":["fa","fb","fc"],"kind":"characterize","params":{"cuts":[4,8],"topK":8}}';
    expect(cacheKey(parts)).toBe(sha256(text));
  });

  it('ignores key order in params, but not the order of inputs or any value', () => {
    expect(cacheKey({ ...parts, params: { cuts: [4, 8], topK: 8 } })).toBe(cacheKey(parts));
    const variants = [
      { ...parts, inputFingerprints: ['fb', 'fa', 'fc'] },
      { ...parts, params: { topK: 9, cuts: [4, 8] } },
      { ...parts, engineVersion: '0.1.1' },
      { ...parts, kind: 'necessity' },
    ];
    const keys = new Set([cacheKey(parts), ...variants.map(cacheKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });
});
