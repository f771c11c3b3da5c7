/**
 * Refusals the HTTP layer answers itself, before Apollo sees the request,
 * in the same shape as GraphQL errors so clients read one format.
 */
import type { ServerResponse } from 'node:http';

export function sendJsonError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}, extensions: Record<string, unknown> = {}): void {
  res
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers })
    .end(JSON.stringify({ errors: [{ message, extensions: { code, ...extensions } }] }));
}
