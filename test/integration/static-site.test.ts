/**
 * The server's `/`: the built dashboard from a web root (content types,
 * caching, 404s, no way out of the root) and, without a build, a page that
 * says how to make one. Requests are sent with raw paths (node:http), since
 * fetch would normalise away the traversal attempts under test.
 */
import { request } from 'node:http';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig, type AppConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(server: RunningServer, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const SECRET = 'not for the web';
const INDEX = '<!doctype html><title>dashboard under test</title><script type="module" src="/assets/index-AbCd1234.js"></script>';
const SCRIPT = 'console.log("dashboard");';

let dir: string;
let built: RunningServer;
let unbuilt: RunningServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'frankenscope-static-'));
  const webRoot = join(dir, 'web', 'dist');
  await mkdir(join(webRoot, 'assets'), { recursive: true });
  await writeFile(join(webRoot, 'index.html'), INDEX);
  await writeFile(join(webRoot, 'assets', 'index-AbCd1234.js'), SCRIPT);
  await writeFile(join(webRoot, 'assets', 'style-Zz9_xY8w.css'), 'body{}');
  await writeFile(join(webRoot, 'robots.txt'), 'User-agent: *');
  await writeFile(join(webRoot, '.env'), SECRET);
  // beside the root, and linked from inside it
  await writeFile(join(dir, 'web', 'secret.txt'), SECRET);
  await symlink(join(dir, 'web', 'secret.txt'), join(webRoot, 'assets', 'linked-AbCd1234.txt'));
  const config: AppConfig = { ...loadConfig({}), port: 0, modelRoots: [dir], demoDir: join(dir, 'no-demo'), demoProbesDir: join(dir, 'no-probes') };
  built = await startServer({ ...config, warehousePath: join(dir, 'built.duckdb') }, { webRoot });
  unbuilt = await startServer({ ...config, warehousePath: join(dir, 'unbuilt.duckdb') }, { webRoot: join(dir, 'never-built') });
}, 60_000);

afterAll(async () => {
  await built?.close();
  await unbuilt?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the dashboard at /', () => {
  test('/ is index.html, revalidated on every load, under a same-origin content security policy', async () => {
    const reply = await raw(built, '/');
    expect(reply.status).toBe(200);
    expect(reply.body).toBe(INDEX);
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(reply.headers['cache-control']).toBe('no-cache');
    expect(reply.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(reply.headers['content-security-policy']).toMatch(/connect-src 'self'/);
    expect((await raw(built, '/index.html')).body).toBe(INDEX);
  });

  test('hashed assets have their content type and are cached for a year; other files revalidate', async () => {
    const script = await raw(built, '/assets/index-AbCd1234.js');
    expect(script.status).toBe(200);
    expect(script.body).toBe(SCRIPT);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(script.headers['content-length']).toBe(String(Buffer.byteLength(SCRIPT)));
    expect(script.headers['x-content-type-options']).toBe('nosniff');
    expect((await raw(built, '/assets/style-Zz9_xY8w.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const robots = await raw(built, '/robots.txt');
    expect(robots.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(robots.headers['cache-control']).toBe('no-cache');
  });

  test('a matching ETag is answered 304 without a body, HEAD without a body', async () => {
    const first = await raw(built, '/');
    const again = await raw(built, '/', { headers: { 'if-none-match': first.headers.etag as string } });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    const head = await raw(built, '/assets/index-AbCd1234.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(SCRIPT)));
  });

  test('missing files are 404, other methods 405', async () => {
    expect((await raw(built, '/assets/missing-AbCd1234.js')).status).toBe(404);
    expect((await raw(built, '/views/localization')).status).toBe(404);
    expect((await raw(built, '/assets')).status).toBe(404);
    const post = await raw(built, '/', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  test('nothing outside the root is served: traversal, encoded slashes, symlinks, hidden files', async () => {
    for (const path of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/assets/..%2F..%2Fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/assets/linked-AbCd1234.txt',
      '/.env',
      '/..%5csecret.txt',
      `/${'..%2f'.repeat(12)}etc%2fpasswd`,
    ]) {
      const reply = await raw(built, path);
      expect([400, 404], path).toContain(reply.status);
      expect(reply.body, path).not.toContain(SECRET);
      expect(reply.body, path).not.toContain('root:');
    }
    expect((await raw(built, '/%E0%A4%A')).status).toBe(400);
    expect((await raw(built, '/index.html%00.js')).status).toBe(400);
  });

  test('GraphQL still answers at /graphql beside the files', async () => {
    const res = await fetch(built.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ checkpoints { id } }' }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: unknown }).data).toEqual({ checkpoints: [] });
  });

  test('without a build, / says to run npm run build:web and other paths are 404', async () => {
    const reply = await raw(unbuilt, '/');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(reply.body).toContain('npm run build:web');
    expect(reply.body).toContain('/graphql');
    expect((await raw(unbuilt, '/assets/index-AbCd1234.js')).status).toBe(404);
  });
});
