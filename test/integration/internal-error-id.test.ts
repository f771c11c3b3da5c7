/**
 * A real bug answers INTERNAL_SERVER_ERROR with an errorId and nothing of the
 * error itself; the server log holds the full error under the same id.
 */
import { GraphQLError } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { formatError } from '../../src/resolvers/translate-error.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  await t?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The one log line that mentions `errorId`, with what was logged alongside it. */
function loggedWith(spy: { mock: { calls: unknown[][] } }, errorId: string): unknown[] {
  const lines = spy.mock.calls.filter((args) => String(args[0]).includes(errorId));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('internal errors carry an id the log shares', () => {
  test('a failing service is masked, and the id leads to the full error in the log', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const bug = new TypeError('secret detail: /home/someone/warehouse.duckdb');
    vi.spyOn(t.app.services.warehouse, 'listRuns').mockRejectedValue(bug);
    const r = await t.execute(`{ runs { id } }`);
    expect(r.errors).toHaveLength(1);
    const e = r.errors![0]!;
    expect(e.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    const errorId = String(e.extensions?.errorId);
    expect(errorId).toMatch(UUID);
    expect(e.message).toContain(errorId);
    expect(JSON.stringify(e)).not.toContain('secret detail');
    expect(e.extensions?.stacktrace).toBeUndefined();
    expect(loggedWith(log, errorId)).toContain(bug);
  });

  test('each failure gets its own id', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    vi.spyOn(t.app.services.warehouse, 'listRuns').mockRejectedValue(new Error('boom'));
    const ids = new Set<unknown>();
    for (let i = 0; i < 3; i++) ids.add((await t.execute(`{ runs { id } }`)).errors?.[0]?.extensions?.errorId);
    expect(ids.size).toBe(3);
  });

  test('a user mistake is not logged as an internal error', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const r = await t.execute(`{ sql(query: "SELECT 1", maxRows: 0) { truncated } }`);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.extensions?.errorId).toBeUndefined();
    expect(log).not.toHaveBeenCalled();
  });

  test('formatError masks an unexpected error that bypassed the translation, with an id', () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const bug = new Error('secret detail');
    const raw = new GraphQLError('secret detail', { originalError: bug, path: ['runs'] });
    const formatted = formatError({ message: 'secret detail', path: ['runs'], extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at x'] } }, raw);
    expect(formatted.message).not.toContain('secret');
    expect(formatted.path).toEqual(['runs']);
    expect(formatted.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', errorId: expect.stringMatching(UUID) });
    expect(loggedWith(log, String(formatted.extensions?.errorId))).toContain(bug);
  });

  test('formatError leaves client errors and already-masked errors alone', () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const client = { message: "'first' must be an integer from 1 to 1000, got 0", extensions: { code: 'BAD_USER_INPUT', argument: 'first' } };
    expect(formatError(client, new GraphQLError(client.message))).toBe(client);
    const masked = { message: 'internal error x', extensions: { code: 'INTERNAL_SERVER_ERROR', errorId: 'x' } };
    expect(formatError(masked, new GraphQLError(masked.message))).toBe(masked);
    expect(log).not.toHaveBeenCalled();
  });
});
