import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tinyTokenIds, tinyTokenizerFiles } from '../../src/engine/fixtures/index.js';
import { TextTokenizer, TokenizerError } from '../../src/engine/model/tokenizer.js';

let root: string;
async function tokenizerDir(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-tok-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('TextTokenizer on the tiny byte-level BPE', () => {
  const ids = tinyTokenIds(true);
  let tok: TextTokenizer;
  beforeAll(async () => {
    const { tokenizerJson, tokenizerConfigJson } = tinyTokenizerFiles(true);
    tok = await TextTokenizer.load(await tokenizerDir('tiny', { 'tokenizer.json': JSON.stringify(tokenizerJson), 'tokenizer_config.json': JSON.stringify(tokenizerConfigJson) }));
  });

  test('ASCII letters without merges map to their byte values', () => {
    expect(tok.encode('xyz')).toEqual([120, 121, 122]);
  });

  test('merges apply: " the" is one token, "the" at the start is t + he', () => {
    const theId = tok.tokenId('Ġthe')!;
    expect(theId).toBeGreaterThanOrEqual(256);
    expect(tok.encode(' the')).toEqual([theId]);
    expect(tok.encode('the')).toEqual([116, tok.tokenId('he')!]);
  });

  test('non-ASCII text is encoded as its UTF-8 bytes and round-trips', () => {
    const text = 'Grüße, 世界!\n\t 42';
    const encoded = tok.encode(text);
    expect(encoded.filter((i) => i < 256).length).toBeGreaterThan(0);
    expect(tok.decode(encoded)).toBe(text);
    // 'ü' is two UTF-8 bytes, 0xC3 0xBC, each a byte token
    expect(tok.encode('ü')).toEqual([0xc3, 0xbc]);
  });

  test('special tokens: ids, recognised in text, kept or skipped on decode', () => {
    expect(tok.tokenId('<|endoftext|>')).toBe(ids.endOfText);
    expect(tok.tokenId('<|vision_start|>')).toBe(ids.visionStart);
    expect(tok.tokenId('<|vision_end|>')).toBe(ids.visionEnd);
    expect(tok.tokenId('<|image_pad|>')).toBe(ids.imagePad);
    expect(tok.tokenId('<|nope|>')).toBeUndefined();
    const encoded = tok.encode('a<|endoftext|>b');
    expect(encoded).toEqual([97, ids.endOfText, 98]);
    expect(tok.decode(encoded)).toBe('a<|endoftext|>b');
    expect(tok.decode(encoded, { skipSpecialTokens: true })).toBe('ab');
  });

  test('encode adds no special tokens', () => {
    expect(tok.encode('')).toEqual([]);
    expect(tok.encode('a')).toEqual([97]);
  });

  test('size counts bytes, merges and specials', () => {
    expect(tok.size).toBe(ids.minVocab);
  });
});

describe('TextTokenizer formats and errors', () => {
  test('merges written as pairs (newer tokenizer.json) behave like "a b" strings, and tokenizer_config.json is optional', async () => {
    const { tokenizerJson } = tinyTokenizerFiles(true);
    const model = tokenizerJson.model as { merges: string[] };
    const pairs = { ...tokenizerJson, model: { ...model, merges: model.merges.map((m) => m.split(' ')) } };
    const tok = await TextTokenizer.load(await tokenizerDir('pairs', { 'tokenizer.json': JSON.stringify(pairs) }));
    expect(tok.encode(' the there')).toEqual([tok.tokenId('Ġthe')!, tok.tokenId('Ġthe')!, tok.tokenId('re')!]);
  });

  test('without merges every byte is its own token', async () => {
    const { tokenizerJson } = tinyTokenizerFiles(false);
    const tok = await TextTokenizer.load(await tokenizerDir('nomerge', { 'tokenizer.json': JSON.stringify(tokenizerJson) }));
    expect(tok.encode(' the')).toEqual([32, 116, 104, 101]);
    expect(tok.tokenId('<|endoftext|>')).toBe(256);
  });

  test('missing tokenizer.json names the file', async () => {
    const dir = await tokenizerDir('empty', {});
    const err = await TextTokenizer.load(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenizerError);
    expect((err as TokenizerError).file).toBe(join(dir, 'tokenizer.json'));
    expect((err as Error).message).toMatch(/does not exist/);
  });

  test('invalid JSON and a JSON without a model are refused', async () => {
    const bad = await tokenizerDir('bad', { 'tokenizer.json': '{"model": ' });
    await expect(TextTokenizer.load(bad)).rejects.toThrow(/not valid JSON/);
    const noModel = await tokenizerDir('nomodel', { 'tokenizer.json': '{"added_tokens": []}' });
    await expect(TextTokenizer.load(noModel)).rejects.toThrow(TokenizerError);
    const arr = await tokenizerDir('arr', { 'tokenizer.json': '[]' });
    await expect(TextTokenizer.load(arr)).rejects.toThrow(/JSON object/);
  });
});
