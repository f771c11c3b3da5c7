/**
 * Client errors: each carries a literal `extensions.code` that clients can
 * switch on. Resolvers translate engine and warehouse errors into these.
 */
import { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CHECKPOINT_INVALID'
  | 'PROBE_SET_INVALID'
  | 'PROBE_SET_CHANGED'
  | 'PATH_NOT_ALLOWED'
  | 'SQL_REFUSED'
  | 'SQL_TIMEOUT'
  | 'SQL_ERROR'
  | 'RUN_FAILED'
  | 'MODEL_UNSUPPORTED'
  | 'IMAGE_INVALID'
  | 'QUEUE_UNAVAILABLE';

export class ClientError extends GraphQLError {
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...details } });
  }
}

export class BadUserInputError extends ClientError {
  /** `allowed` (e.g. { min, max } or { maxLength }) lets a client correct the value without parsing the message */
  constructor(message: string, argument?: string, allowed?: Record<string, unknown>) {
    super('BAD_USER_INPUT', message, { ...(argument ? { argument } : {}), ...(allowed ? { allowed } : {}) });
  }
}

export class NotFoundError extends ClientError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', `${what} '${id}' not found`, { id });
  }
}

export class CheckpointInvalidError extends ClientError {
  constructor(message: string, reason?: string) {
    super('CHECKPOINT_INVALID', message, reason ? { reason } : {});
  }
}

export class PathNotAllowedError extends ClientError {
  constructor(path: string, roots: readonly string[]) {
    super('PATH_NOT_ALLOWED', `path '${path}' is outside the allowed model roots (${roots.join(', ')}); set FRANKENSCOPE_MODEL_ROOTS to allow more`, { path });
  }
}
