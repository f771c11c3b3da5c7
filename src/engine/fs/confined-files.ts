/**
 * The one door through which the readers (checkpoints, tokenizers, probe
 * sets, images) open a file a client pointed at. Checking only the folder a
 * client named is not enough: any file inside it may be a symlink to a
 * secret elsewhere, or a FIFO that blocks a read forever. So every file is
 * resolved to its real path, which must lie inside one of the allowed roots,
 * and is opened non-blocking and then required to be a regular file.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { parse as parseTolerant, printParseErrorCode, type ParseError } from 'jsonc-parser';

/** The folders a reader may open files in (symlinks are resolved before the check). */
export type AllowedRoots = readonly string[];

export type FileAccessReason =
  /** the file's real path (symlinks resolved) lies outside every allowed root */
  | 'OUTSIDE_ROOTS'
  /** a folder, FIFO, socket or device instead of a regular file */
  | 'NOT_A_FILE'
  /** nothing at that path (a dangling symlink included) */
  | 'MISSING'
  /** the file exists but could not be opened or read (permissions, a NUL byte in the name, I/O) */
  | 'UNREADABLE';

/**
 * A file a reader may not or cannot open. `file` is the path as the reader
 * built it, never the symlink's target: that would tell a client where
 * server files live.
 */
export class FileAccessError extends Error {
  override readonly name = 'FileAccessError';

  constructor(readonly reason: FileAccessReason, readonly file: string, message: string) {
    super(message);
  }
}

/** A file's JSON that does not parse; the message names where, never what the file holds. */
export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';

  constructor(readonly file: string, readonly line: number, readonly column: number, readonly problem: string) {
    super(`${file} is not valid JSON: ${problem} at line ${line}, column ${column}`);
  }
}

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function inside(child: string, root: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

async function realRoots(roots: AllowedRoots): Promise<string[]> {
  const out: string[] = [];
  for (const root of roots) {
    try {
      out.push(await realpath(root));
    } catch {
      // a root that does not exist holds no files; the others still apply
    }
  }
  return out;
}

/**
 * The real path of `file`, checked against `roots`.
 * @throws FileAccessError MISSING, OUTSIDE_ROOTS or UNREADABLE
 */
export async function confinedRealPath(file: string, roots: AllowedRoots): Promise<string> {
  if (file.includes('\0')) throw new FileAccessError('UNREADABLE', file, `${JSON.stringify(file)} contains a NUL byte, which no file name can hold`);
  let real: string;
  try {
    real = await realpath(file);
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FileAccessError('MISSING', file, `${file} does not exist`);
    throw new FileAccessError('UNREADABLE', file, `${file} cannot be resolved (${code ?? 'error'})`);
  }
  const allowed = await realRoots(roots);
  if (!allowed.some((root) => inside(real, root))) {
    throw new FileAccessError('OUTSIDE_ROOTS', file, `${file} resolves to a file outside the allowed roots (a symlink leading out is not followed)`);
  }
  return real;
}

/**
 * Opens a regular file inside the roots for reading. O_NONBLOCK makes
 * opening a FIFO return at once instead of waiting for a writer, so the
 * fstat that follows can refuse it.
 * @throws FileAccessError MISSING, OUTSIDE_ROOTS, NOT_A_FILE or UNREADABLE
 */
export async function openConfined(file: string, roots: AllowedRoots): Promise<FileHandle> {
  const real = await confinedRealPath(file, roots);
  let handle: FileHandle;
  try {
    // O_NOFOLLOW: a symlink swapped in after the check is refused rather than followed
    handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT') throw new FileAccessError('MISSING', file, `${file} does not exist`);
    if (code === 'ELOOP') throw new FileAccessError('OUTSIDE_ROOTS', file, `${file} was replaced by a symlink while being opened`);
    throw new FileAccessError('UNREADABLE', file, `${file} cannot be opened (${code ?? 'error'})`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new FileAccessError('NOT_A_FILE', file, `${file} is ${describeKind(info)}, not a regular file`);
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  return handle;
}

function describeKind(info: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  return 'a device or special file';
}

/**
 * Whether a regular file inside the roots exists at `file`: false only when
 * nothing is there, so a file that exists but may not be read still fails loudly.
 * @throws FileAccessError OUTSIDE_ROOTS, NOT_A_FILE or UNREADABLE
 */
export async function confinedFileExists(file: string, roots: AllowedRoots): Promise<boolean> {
  try {
    await (await openConfined(file, roots)).close();
    return true;
  } catch (error) {
    if (error instanceof FileAccessError && error.reason === 'MISSING') return false;
    throw error;
  }
}

/** The bytes of a regular file inside the roots. */
export async function readConfinedFile(file: string, roots: AllowedRoots): Promise<Buffer> {
  const handle = await openConfined(file, roots);
  try {
    return await handle.readFile();
  } catch (error) {
    throw new FileAccessError('UNREADABLE', file, `${file} cannot be read (${errnoOf(error) ?? 'error'})`);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The UTF-8 text of a regular file inside the roots. */
export async function readConfinedText(file: string, roots: AllowedRoots): Promise<string> {
  return (await readConfinedFile(file, roots)).toString('utf8');
}

/** sha256 (hex) of a regular file inside the roots, streamed so memory stays bounded. */
export async function hashConfinedFile(file: string, roots: AllowedRoots): Promise<string> {
  const handle = await openConfined(file, roots);
  try {
    return await hashOpenFile(handle);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** sha256 (hex) of an open file from its first byte, streamed; the handle stays open. */
export async function hashOpenFile(handle: FileHandle): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1 << 22);
  for (let position = 0; ; ) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}

/**
 * JSON.parse, but a syntax error names the line and column (1-based) and
 * not the offending text: V8's own message quotes the file's first bytes,
 * which would hand a client the content of a file it may not read.
 * @throws JsonSyntaxError
 */
export function parseJsonNamingPlace(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const errors: ParseError[] = [];
    parseTolerant(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    const offset = first ? first.offset : text.length;
    // 'CommaExpected' -> 'comma expected'
    const problem = first ? printParseErrorCode(first.error).replace(/(?<=[a-z])(?=[A-Z])/g, ' ').toLowerCase() : 'unexpected content';
    const { line, column } = lineAndColumn(text, offset);
    throw new JsonSyntaxError(file, line, column, problem);
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
