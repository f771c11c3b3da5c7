/**
 * The one place where engine, warehouse and service errors become client
 * errors with codes. Anything unrecognised is a bug: it is logged in full and
 * masked, and the log line and the client's error share an id so a report
 * from a client leads to the stack.
 */
import { randomUUID } from 'node:crypto';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { InvalidArgument, UnknownCheckpoint } from '../services/errors.js';
import { InvalidCheckpointName } from '../services/checkpoint-registry.js';
import { PathMissing, PathNotAllowed } from '../services/path-guard.js';
import { CheckpointError } from '../engine/checkpoint/index.js';
import { FileAccessError } from '../engine/fs/confined-files.js';
import { WarehouseError } from '../warehouse/index.js';
import { ProbeSetError } from '../engine/probes/index.js';
import { ProbeSetChanged, UnknownProbeSet } from '../services/probe-set-registry.js';
import { AnalysisInputError } from '../engine/analyses/prepare.js';
import { ChatTemplateError } from '../engine/model/chat.js';
import { ModelConfigError } from '../engine/model/config.js';
import { QwenImageError } from '../engine/model/families/qwen-vl/image-processor.js';
import { PromptError } from '../engine/model/prompt.js';
import { QueueUnavailable } from '../services/units/queue-unavailable.js';
import { BadUserInputError, CheckpointInvalidError, ClientError, NotFoundError, PathNotAllowedError } from '../schema/errors.js';

export function toClientError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  if (err instanceof UnknownCheckpoint) return new NotFoundError('checkpoint', err.checkpointId);
  if (err instanceof InvalidArgument) return new BadUserInputError(err.message, err.argument);
  if (err instanceof InvalidCheckpointName) return new BadUserInputError(err.message, 'name');
  if (err instanceof PathNotAllowed) return new PathNotAllowedError(err.path, err.roots);
  if (err instanceof PathMissing) return new ClientError('NOT_FOUND', err.message, { path: err.path });
  if (err instanceof CheckpointError) return new CheckpointInvalidError(err.message, err.code);
  if (err instanceof UnknownProbeSet) return new NotFoundError('probe set', err.probeSetId);
  if (err instanceof ProbeSetChanged) return new ClientError('PROBE_SET_CHANGED', err.message, { id: err.probeSetId });
  if (err instanceof ProbeSetError) return new ClientError('PROBE_SET_INVALID', err.message, { reason: err.code });
  if (err instanceof AnalysisInputError) return new BadUserInputError(err.message);
  // a model or input the engine cannot run faithfully: refused by name, never guessed at
  if (err instanceof ModelConfigError) return new ClientError('MODEL_UNSUPPORTED', err.message, { key: err.key });
  if (err instanceof QwenImageError) return new ClientError('IMAGE_INVALID', err.message, { reason: err.code });
  if (err instanceof PromptError || err instanceof ChatTemplateError) return new BadUserInputError(err.message);
  if (err instanceof FileAccessError) {
    // a file inside a registered folder: the folder passed the allow-list, this file did not
    if (err.reason === 'OUTSIDE_ROOTS') return new ClientError('PATH_NOT_ALLOWED', err.message, { reason: err.reason });
    if (err.reason === 'MISSING') return new ClientError('NOT_FOUND', err.message, { reason: err.reason });
    return new ClientError('BAD_USER_INPUT', err.message, { reason: err.reason });
  }
  // Redis down: the request needs the queue; nothing was started, finished results still read
  if (err instanceof QueueUnavailable) return new ClientError('QUEUE_UNAVAILABLE', err.message);
  if (err instanceof WarehouseError) {
    if (err.code === 'SQL_REFUSED' || err.code === 'SQL_TIMEOUT' || err.code === 'SQL_ERROR') return new ClientError(err.code, err.message);
  }
  return internalError(err);
}

/** Logs `err` under a fresh id and returns the masked error carrying that id. */
export function internalError(err: unknown): GraphQLError {
  const errorId = randomUUID();
  console.error(`[frankenscope] internal error ${errorId}:`, err);
  return new GraphQLError(`internal error ${errorId} (details are in the server log under this id)`, { extensions: { code: 'INTERNAL_SERVER_ERROR', errorId } });
}

/**
 * For ApolloServer's formatError: errors thrown outside `translating` (by the
 * GraphQL layer itself, or a resolver that forgot it) would reach the client
 * unmasked with their message; they get the same log-and-id treatment.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  if (formatted.extensions?.code !== 'INTERNAL_SERVER_ERROR' || formatted.extensions.errorId) return formatted;
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  const masked = internalError(original);
  return { message: masked.message, locations: formatted.locations, path: formatted.path, extensions: masked.extensions };
}

/** Runs a resolver body, translating any thrown error. */
export async function translating<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw toClientError(err);
  }
}
