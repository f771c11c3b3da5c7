/**
 * Chat formatting as the reference scripts do it with transformers'
 * `apply_chat_template`: the prompt becomes one user message (its `<image>`
 * markers as image items, the text between them as text items), rendered
 * with the model's own Jinja chat template and `add_generation_prompt`, then
 * tokenized with its special tokens. The template's image placeholder
 * (vision start + image pad + vision end) is turned back into an `<image>`
 * marker so prompt building expands each image to its own token count.
 */
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { FileAccessError, JsonSyntaxError, parseJsonNamingPlace, readConfinedText, type AllowedRoots } from '../fs/confined-files.js';
import type { ModelConfig } from './config.js';
import { IMAGE_MARKER } from './prompt.js';

/** No usable chat template, or one that does not render the prompt's images. */
export class ChatTemplateError extends Error {
  override readonly name = 'ChatTemplateError';
}

/** A model's chat template and the special-token strings templates refer to. */
export interface ChatTemplate {
  source: string;
  template: string;
  bosToken: string | null;
  eosToken: string | null;
}

async function optionalText(file: string, roots: AllowedRoots): Promise<string | undefined> {
  try {
    return await readConfinedText(file, roots);
  } catch (e) {
    if (e instanceof FileAccessError && e.reason === 'MISSING') return undefined;
    throw e;
  }
}

async function optionalJson(file: string, roots: AllowedRoots): Promise<Record<string, unknown> | undefined> {
  const text = await optionalText(file, roots);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = parseJsonNamingPlace(text, file);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new ChatTemplateError(e.message);
    throw e;
  }
  return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
}

/** A template value: a string, or transformers' list of named templates (the one named "default"). */
function templateOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.find((t) => typeof t === 'object' && t !== null && (t as { name?: unknown }).name === 'default') as { template?: unknown } | undefined;
    if (typeof named?.template === 'string') return named.template;
  }
  return undefined;
}

function tokenString(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return null;
}

/**
 * The chat template of a checkpoint directory, looked up where transformers
 * keeps it: chat_template.jinja, chat_template.json, then tokenizer_config.json.
 * @throws ChatTemplateError when none of them holds one
 */
export async function loadChatTemplate(dir: string, options: { roots?: AllowedRoots } = {}): Promise<ChatTemplate> {
  const roots = options.roots ?? [dir];
  const tokenizerConfig = (await optionalJson(join(dir, 'tokenizer_config.json'), roots)) ?? {};
  const specials = { bosToken: tokenString(tokenizerConfig.bos_token), eosToken: tokenString(tokenizerConfig.eos_token) };
  const jinja = await optionalText(join(dir, 'chat_template.jinja'), roots);
  if (jinja !== undefined) return { source: 'chat_template.jinja', template: jinja, ...specials };
  const fromJson = templateOf((await optionalJson(join(dir, 'chat_template.json'), roots))?.chat_template);
  if (fromJson !== undefined) return { source: 'chat_template.json', template: fromJson, ...specials };
  const fromTokenizer = templateOf(tokenizerConfig.chat_template);
  if (fromTokenizer !== undefined) return { source: 'tokenizer_config.json', template: fromTokenizer, ...specials };
  throw new ChatTemplateError(`the model has no chat template (looked in chat_template.jinja, chat_template.json and tokenizer_config.json); run without chat formatting`);
}

/** Whether a checkpoint directory ships a chat template (see {@link loadChatTemplate}). */
export async function hasChatTemplate(dir: string, options: { roots?: AllowedRoots } = {}): Promise<boolean> {
  try {
    await loadChatTemplate(dir, options);
    return true;
  } catch (e) {
    if (e instanceof ChatTemplateError) return false;
    throw e;
  }
}

/** What {@link renderChatPrompt} needs to turn token ids into their strings. */
export interface TokenNamer {
  tokenText(id: number): string | undefined;
}

/**
 * Renders `prompt` (text with `<image>` markers; a single image without a
 * marker goes first) as one user turn followed by the assistant's generation
 * prompt. The result is text with `<image>` markers where the images go.
 * @throws ChatTemplateError when the template fails or does not place every image
 */
export function renderChatPrompt(prompt: string, imageCount: number, chat: ChatTemplate, config: ModelConfig, tokens: TokenNamer): string {
  const pieces = prompt.split(IMAGE_MARKER);
  const texts = pieces.length === 1 && imageCount === 1 ? ['', prompt] : pieces;
  const content: Record<string, string>[] = [];
  texts.forEach((text, i) => {
    if (i > 0) content.push({ type: 'image' });
    if (text.length > 0) content.push({ type: 'text', text });
  });
  let rendered: string;
  try {
    rendered = new Template(chat.template).render({
      messages: [{ role: 'user', content }],
      add_generation_prompt: true,
      bos_token: chat.bosToken ?? '',
      eos_token: chat.eosToken ?? '',
    });
  } catch (e) {
    throw new ChatTemplateError(`the chat template in ${chat.source} cannot be rendered: ${(e as Error).message}`);
  }
  const markers = texts.length - 1;
  if (markers === 0) return rendered;
  const name = (id: number | null) => (id === null ? '' : tokens.tokenText(id) ?? '');
  const placeholder = `${name(config.visionStartTokenId)}${name(config.imageTokenId)}${name(config.visionEndTokenId)}`;
  const parts = rendered.split(placeholder);
  if (parts.length - 1 !== markers) {
    throw new ChatTemplateError(`the chat template in ${chat.source} placed ${parts.length - 1} image placeholder(s) '${placeholder}' for ${markers} image(s)`);
  }
  return parts.join(IMAGE_MARKER);
}
