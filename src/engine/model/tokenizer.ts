/**
 * The text tokenizer of a checkpoint: `tokenizer.json` (Hugging Face format,
 * e.g. Qwen2's byte-level BPE) read with `@huggingface/tokenizers`, plus the
 * optional `tokenizer_config.json`. Pure JavaScript, no network.
 */
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { FileAccessError, JsonSyntaxError, parseJsonNamingPlace, readConfinedText, type AllowedRoots } from '../fs/confined-files.js';

/** tokenizer.json is missing, unreadable or not a tokenizer the library understands. */
export class TokenizerError extends Error {
  override readonly name = 'TokenizerError';
  /** the file at fault */
  readonly file: string;

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.file = file;
  }
}

/** Options of {@link TextTokenizer.decode}. */
export interface DecodeOptions {
  /** drop special tokens (end of text, vision markers, ...) from the text [false] */
  skipSpecialTokens?: boolean;
}

async function readJson(file: string, roots: AllowedRoots, required: boolean): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readConfinedText(file, roots);
  } catch (e) {
    if (!(e instanceof FileAccessError)) throw e;
    if (e.reason === 'MISSING' && !required) return undefined;
    if (e.reason === 'MISSING') throw new TokenizerError(file, `tokenizer file ${file} does not exist`);
    throw new TokenizerError(file, `cannot read tokenizer file: ${e.message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = parseJsonNamingPlace(text, file);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    throw new TokenizerError(file, `tokenizer file ${e.message}`, { cause: e });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TokenizerError(file, `tokenizer file ${file} does not hold a JSON object`);
  return json as Record<string, unknown>;
}

/** A loaded tokenizer. Holds no OS resources, so there is nothing to release. */
export class TextTokenizer {
  readonly #tok: Tokenizer;
  readonly #vocab: Map<string, number>;
  #names: Map<number, string> | undefined;

  private constructor(tok: Tokenizer) {
    this.#tok = tok;
    this.#vocab = tok.get_vocab(true);
  }

  /**
   * Loads `tokenizer.json` (required) and `tokenizer_config.json` (optional) from a checkpoint directory.
   * Both must be regular files whose real paths lie inside `options.roots` (default: the directory).
   * @throws TokenizerError naming the file when it is missing, outside the roots, not JSON, or not a usable tokenizer
   */
  static async load(dir: string, options: { roots?: AllowedRoots } = {}): Promise<TextTokenizer> {
    const roots = options.roots ?? [dir];
    const file = join(dir, 'tokenizer.json');
    const json = await readJson(file, roots, true);
    const config = (await readJson(join(dir, 'tokenizer_config.json'), roots, false)) ?? {};
    const model = json!.model;
    if (typeof model !== 'object' || model === null || typeof (model as { type?: unknown }).type !== 'string') {
      throw new TokenizerError(file, `tokenizer file ${file} has no 'model' object with a 'type'`);
    }
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json!, config);
      tok.encode('probe', { add_special_tokens: false });
    } catch (e) {
      throw new TokenizerError(file, `tokenizer file ${file} cannot be used: ${(e as Error).message}`, { cause: e });
    }
    return new TextTokenizer(tok);
  }

  /** Number of distinct ids (regular and added tokens). */
  get size(): number {
    return this.#vocab.size;
  }

  /** Token ids of `text`; no special tokens are added (special-token text inside it is still recognised). */
  encode(text: string): number[] {
    return this.#tok.encode(text, { add_special_tokens: false }).ids;
  }

  /** Text of `ids`. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    return this.#tok.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  /** The vocabulary string of a token id (e.g. `<|image_pad|>`), or undefined if absent. */
  tokenText(id: number): string | undefined {
    this.#names ??= new Map([...this.#vocab].map(([text, tokenId]) => [tokenId, text]));
    return this.#names.get(id);
  }

  /** Id of a token given by its vocabulary string (e.g. `<|endoftext|>`), or undefined if absent. */
  tokenId(token: string): number | undefined {
    return this.#vocab.get(token);
  }
}
