import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig, type AppConfig } from '../../src/config.js';
import { UnsafeBindingError } from '../../src/http/access.js';
import { createTokenCheck } from '../../src/http/bearer-token.js';
import { createHostGuard, isLoopbackHost } from '../../src/http/host-guard.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { takeAccessToken } from '../../web/src/access-token.js';

const TOKEN = 'c0ffee-test-token-0123456789abcdef';
let dir: string;
let base: AppConfig;
let open: RunningServer;
let guarded: RunningServer;

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any;
}

/** A request with any Host header (fetch does not let a caller set it). */
function raw(url: string, options: { host?: string; method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Raw> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname: target.hostname, port: target.port, path: target.pathname + target.search, method: options.method ?? (options.body ? 'POST' : 'GET'), headers: { ...(options.host ? { host: options.host } : {}), ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON: a static page
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const graphql = (url: string, query: string, headers: Record<string, string> = {}, host?: string) =>
  raw(url, { host, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'frankenscope-access-'));
  base = { ...loadConfig({}), port: 0, modelRoots: [dir], demoDir: join(dir, 'none'), demoProbesDir: join(dir, 'none') };
  open = await startServer({ ...base, warehousePath: join(dir, 'open.duckdb'), allowedHosts: ['frankenscope.lan', 'proxy.example:8443'] });
  guarded = await startServer({ ...base, warehousePath: join(dir, 'guarded.duckdb'), token: TOKEN });
}, 60_000);

afterAll(async () => {
  await open?.close();
  await guarded?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Host allow-list', () => {
  test('answers localhost, 127.0.0.1, [::1] and the allowed names with the server port', async () => {
    const port = new URL(open.url).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`, `frankenscope.lan:${port}`, 'proxy.example:8443']) {
      const r = await graphql(open.url, '{ checkpoints { id } }', {}, host);
      expect({ host, status: r.status }).toEqual({ host, status: 200 });
      expect(r.json.data.checkpoints).toEqual([]);
    }
  });

  test('refuses a rebinding name, other ports, a missing port and malformed values with 403 HOST_NOT_ALLOWED', async () => {
    const port = new URL(open.url).port;
    const hosts = ['evil.example.com', `evil.example.com:${port}`, `localhost:${Number(port) + 1}`, 'localhost', `127.0.0.2:${port}`, `0.0.0.0:${port}`, `frankenscope.lan:1`, 'proxy.example', `user@localhost:${port}`, `localhost.:${port}`];
    for (const host of hosts) {
      const r = await graphql(open.url, '{ sql(query: "SELECT 1") { rows } }', {}, host);
      expect({ host, status: r.status }).toEqual({ host, status: 403 });
      expect(r.json.errors[0].extensions.code).toBe('HOST_NOT_ALLOWED');
      expect(r.json.data).toBeUndefined();
    }
    // the dashboard's files too: a rebinding page reads nothing from this origin
    const page = await raw(open.url.replace('/graphql', '/'), { host: `evil.example.com:${port}` });
    expect(page.status).toBe(403);
    expect(page.json.errors[0].extensions.code).toBe('HOST_NOT_ALLOWED');
  });

  test('a mutation from a rebinding page registers nothing', async () => {
    const port = new URL(open.url).port;
    const r = await graphql(open.url, 'mutation { registerCheckpoint(path: "x") { id } }', {}, `attacker.example:${port}`);
    expect(r.status).toBe(403);
  });

  test('guard rules: default port 80, IPv6 literals, loopback names', () => {
    const on80 = createHostGuard({ host: '127.0.0.1', port: 80, allowedHosts: [] });
    expect(on80('localhost')).toBe(true);
    expect(on80('localhost:80')).toBe(true);
    expect(on80('evil.example')).toBe(false);
    expect(on80(undefined)).toBe(false);
    const v6 = createHostGuard({ host: '::1', port: 4000, allowedHosts: ['[fd00::1]'] });
    expect(v6('[::1]:4000')).toBe(true);
    expect(v6('[fd00::1]:4000')).toBe(true);
    expect(v6('[fd00::2]:4000')).toBe(false);
    // a wildcard bind is not a name anyone reaches the server by
    const wildcard = createHostGuard({ host: '0.0.0.0', port: 4000, allowedHosts: [] });
    expect(wildcard('0.0.0.0:4000')).toBe(false);
    expect(wildcard('127.0.0.1:4000')).toBe(true);
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '192.168.1.10', 'example.com', '127.example.com'].some(isLoopbackHost)).toBe(false);
  });
});

describe('access token', () => {
  test('a non-loopback HOST without FRANKENSCOPE_TOKEN does not start, and opens nothing', async () => {
    const warehousePath = join(dir, 'never.duckdb');
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'myhost.lan']) {
      await expect(startServer({ ...base, host, warehousePath, token: null })).rejects.toThrow(UnsafeBindingError);
    }
    await expect(startServer({ ...base, host: '0.0.0.0', warehousePath, token: null })).rejects.toThrow(/HOST=0\.0\.0\.0 is not a loopback address, so FRANKENSCOPE_TOKEN is required/);
    expect(existsSync(warehousePath)).toBe(false);
  });

  test('with a token, a wildcard HOST starts and its URL passes the Host check', async () => {
    const server = await startServer({ ...base, host: '0.0.0.0', warehousePath: join(dir, 'wide.duckdb'), token: TOKEN });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      const r = await graphql(server.url, '{ checkpoints { id } }', { authorization: `Bearer ${TOKEN}` });
      expect(r.status).toBe(200);
      expect((await graphql(server.url, '{ checkpoints { id } }')).status).toBe(401);
    } finally {
      await server.close();
    }
  });

  test('/graphql without the token, or with another, is 401 UNAUTHENTICATED; with it, answered', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-token-wrong-token' }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Bearer ${TOKEN.slice(0, -1)}` }]) {
      const r = await graphql(guarded.url, '{ sql(query: "SELECT 1") { rows } }', headers);
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(r.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(r.json.data).toBeUndefined();
    }
    const ok = await graphql(guarded.url, '{ sql(query: "SELECT 1 AS one") { rows } }', { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.json.data.sql.rows).toEqual([[1]]);
    // GET needs it as well
    expect((await raw(`${guarded.url}?query=${encodeURIComponent('{ checkpoints { id } }')}`, { headers: { 'apollo-require-preflight': '1' } })).status).toBe(401);
  });

  test('the dashboard files load without the token (the page must load to read it from its URL)', async () => {
    const r = await raw(guarded.url.replace('/graphql', '/'));
    expect(r.status).toBe(200);
  });

  test('the Host check comes first, also for a request with the right token', async () => {
    const port = new URL(guarded.url).port;
    const r = await graphql(guarded.url, '{ checkpoints { id } }', { authorization: `Bearer ${TOKEN}` }, `evil.example.com:${port}`);
    expect(r.status).toBe(403);
  });

  test('token check: exact, case-insensitive scheme, any length compared without leaking it', () => {
    const check = createTokenCheck(TOKEN);
    expect(check(`Bearer ${TOKEN}`)).toBe(true);
    expect(check(`bearer ${TOKEN}`)).toBe(true);
    expect(check(undefined)).toBe(false);
    expect(check('Bearer ')).toBe(false);
    expect(check(`Bearer ${TOKEN} extra`)).toBe(false);
    expect(check(`Bearer ${'x'.repeat(10_000)}`)).toBe(false);
  });

  test('FRANKENSCOPE_TOKEN and FRANKENSCOPE_ALLOWED_HOSTS from the environment; a short token or a bad host is refused', () => {
    const config = loadConfig({ FRANKENSCOPE_TOKEN: TOKEN, FRANKENSCOPE_ALLOWED_HOSTS: 'frankenscope.lan, 10.0.0.5:8080' });
    expect(config.token).toBe(TOKEN);
    expect(config.allowedHosts).toEqual(['frankenscope.lan', '10.0.0.5:8080']);
    expect(loadConfig({}).token).toBeNull();
    expect(() => loadConfig({ FRANKENSCOPE_TOKEN: 'short' })).toThrow(/FRANKENSCOPE_TOKEN must be at least 16 characters/);
    expect(() => loadConfig({ FRANKENSCOPE_TOKEN: 'sixteen chars with spaces' })).toThrow(/without spaces/);
    expect(() => loadConfig({ FRANKENSCOPE_ALLOWED_HOSTS: 'http://evil.example/' })).toThrow(/FRANKENSCOPE_ALLOWED_HOSTS: 'http:\/\/evil.example\/'/);
  });

  test('`frankenscope serve` on 0.0.0.0 without a token prints why and exits non-zero', async () => {
    const bin = new URL('../../bin/frankenscope.js', import.meta.url).pathname;
    const env = { ...process.env, HOST: '0.0.0.0', PORT: '0', FRANKENSCOPE_TOKEN: '', FRANKENSCOPE_WAREHOUSE: join(dir, 'cli.duckdb') };
    const failure = await promisify(execFile)(process.execPath, [bin, 'serve'], { env, timeout: 60_000 }).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure).not.toBeNull();
    expect(failure!.code).not.toBe(0);
    expect(failure!.stderr).toMatch(/frankenscope: HOST=0\.0\.0\.0 is not a loopback address, so FRANKENSCOPE_TOKEN is required/);
    expect(failure!.stderr).not.toMatch(/\.ts:\d+/);
  }, 60_000);

  test('stopping the launcher (kill PID, as a supervisor does) stops the server it started, port closed', async () => {
    const bin = new URL('../../bin/frankenscope.js', import.meta.url).pathname;
    const env = { ...process.env, PORT: '0', FRANKENSCOPE_WAREHOUSE: join(dir, 'launcher.duckdb'), FRANKENSCOPE_LAKE: 'off' };
    const launcher = spawn(process.execPath, [bin, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
    let printed = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no address printed: ${printed}`)), 90_000);
      const read = (chunk: Buffer) => {
        printed += chunk.toString();
        const m = /GraphQL at (http:\/\/\S+)/.exec(printed);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      launcher.stdout!.on('data', read);
      launcher.stderr!.on('data', read);
    });
    const answered = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(answered.status).toBe(200);
    launcher.kill('SIGTERM');
    await exited;
    // the server itself is gone, not only its launcher: nothing answers on its port any more
    await new Promise((r) => setTimeout(r, 500));
    await expect(fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })).rejects.toThrow();
  }, 120_000);
});

describe("the dashboard's token", () => {
  function browser(href: string, stored: Record<string, string> = {}) {
    const store = new Map(Object.entries(stored));
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) } as Storage;
    const history = { state: { kept: true }, replaced: [] as unknown[][], replaceState(...args: unknown[]) { this.replaced.push(args); } };
    return { location: { href } as Location, history, storage, store };
  }

  test('takes ?token= once, keeps it for the tab and strips it from the address (state and hash kept)', () => {
    const b = browser('http://127.0.0.1:4000/?token=abc123abc123abc123&view=localization#probes=demo/pairs');
    expect(takeAccessToken(b.location, b.history as unknown as History, b.storage)).toBe('abc123abc123abc123');
    expect(b.history.replaced).toEqual([[{ kept: true }, '', '/?view=localization#probes=demo/pairs']]);
    expect(b.store.get('frankenscope.token')).toBe('abc123abc123abc123');
    // later loads (a reload, a shared link without the token) use the stored one
    const again = browser('http://127.0.0.1:4000/#view=necessity', Object.fromEntries(b.store));
    expect(takeAccessToken(again.location, again.history as unknown as History, again.storage)).toBe('abc123abc123abc123');
    expect(again.history.replaced).toEqual([]);
  });

  test('no token anywhere: none is sent; no storage: the URL token still works', () => {
    const none = browser('http://127.0.0.1:4000/');
    expect(takeAccessToken(none.location, none.history as unknown as History, none.storage)).toBeNull();
    const b = browser('http://127.0.0.1:4000/?token=abc123abc123abc123');
    expect(takeAccessToken(b.location, b.history as unknown as History, null)).toBe('abc123abc123abc123');
    expect(b.history.replaced[0]![2]).toBe('/');
  });
});

describe('production mode', () => {
  test('NODE_ENV=production hides field suggestions and introspection; development keeps them', async () => {
    expect(loadConfig({ NODE_ENV: 'production' }).production).toBe(true);
    expect(loadConfig({}).production).toBe(false);
    const prod = await startServer({ ...base, warehousePath: join(dir, 'prod.duckdb'), production: true });
    try {
      const typo = await graphql(prod.url, '{ checkpoint { id } }');
      expect(typo.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(typo.json.errors[0].message).not.toMatch(/Did you mean/);
      const introspection = await graphql(prod.url, '{ __schema { types { name } } }');
      expect(introspection.json.errors[0].message).toMatch(/introspection/i);
      expect((await graphql(prod.url, '{ checkpoints { id } }')).json.data.checkpoints).toEqual([]);
    } finally {
      await prod.close();
    }
    const dev = await graphql(open.url, '{ checkpoint { id } }');
    expect(dev.json.errors[0].message).toMatch(/Did you mean "checkpoints"/);
    expect((await graphql(open.url, '{ __schema { queryType { name } } }')).json.data.__schema.queryType.name).toBe('Query');
  });
});
