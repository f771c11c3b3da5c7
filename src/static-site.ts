/**
 * Serves the built dashboard (web/dist) at `/`: files under the root only
 * (no path traversal, no symlinks out), content types by extension, long
 * immutable caching for Vite's content-hashed assets and revalidation for
 * everything else. Without a build, `/` answers a page that says how to make one.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite names built assets `<name>-<hash>.<ext>` under assets/: their content never changes under one name. */
const HASHED_ASSET = /^assets\/[^/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

/**
 * Everything comes from this origin: scripts, styles, data and images. Vega
 * compiles its expressions with `new Function` (hence 'unsafe-eval'); the
 * chart library injects its style element (hence inline styles); PNG export
 * draws through data: and blob: URLs.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

export const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>frankenscope</title>
<h1>frankenscope</h1>
<p>The dashboard is not built. Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it first), then reload.</p>
<p>GraphQL endpoint: <code>POST /graphql</code>. See the README for example queries.</p>`;

export interface StaticSite {
  /** the directory served */
  readonly root: string;
  /** answers a request for `pathname` (already parsed from the URL, still percent-encoded) */
  handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void>;
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...headers }).end(text);
}

function inside(root: string, path: string): boolean {
  return path.startsWith(root + sep);
}

export function createStaticSite(root: string): StaticSite {
  const absoluteRoot = resolve(root);
  let realRoot: Promise<string | null> | undefined;
  // the build may appear or be replaced while the server runs: the root is resolved again after a miss
  const resolveRoot = () => (realRoot ??= realpath(absoluteRoot).catch(() => null));

  return {
    root: absoluteRoot,
    async handle(req, res, pathname) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        plain(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
        return;
      }
      let decoded: string;
      try {
        decoded = decodeURIComponent(pathname);
      } catch {
        plain(res, 400, 'malformed path');
        return;
      }
      if (decoded.includes('\0') || decoded.includes('\\')) {
        plain(res, 400, 'malformed path');
        return;
      }
      // hidden files and any '..' that survived URL normalisation (an encoded slash) are never served
      if (decoded.split('/').some((segment) => segment.startsWith('.'))) {
        plain(res, 404, 'not found');
        return;
      }
      const relative = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
      const real = await resolveRoot();
      if (real === null) {
        realRoot = undefined;
        if (relative === 'index.html') sendNotBuilt(req, res);
        else plain(res, 404, 'not found');
        return;
      }
      const candidate = resolve(absoluteRoot, relative);
      if (!inside(absoluteRoot, candidate)) {
        plain(res, 404, 'not found');
        return;
      }
      let file: string;
      let info;
      try {
        file = await realpath(candidate);
        info = await stat(file);
      } catch {
        if (relative === 'index.html') {
          realRoot = undefined;
          sendNotBuilt(req, res);
        } else plain(res, 404, 'not found');
        return;
      }
      // a symlink inside the build that points elsewhere is not served
      if (!info.isFile() || !inside(real, file)) {
        plain(res, 404, 'not found');
        return;
      }
      const hashed = HASHED_ASSET.test(relative);
      const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
      const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      const headers: Record<string, string> = {
        'content-type': type,
        'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
        etag,
        'last-modified': info.mtime.toUTCString(),
        'x-content-type-options': 'nosniff',
      };
      if (type.startsWith('text/html')) {
        headers['content-security-policy'] = DASHBOARD_CSP;
        headers['referrer-policy'] = 'no-referrer';
      }
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers).end();
        return;
      }
      headers['content-length'] = String(info.size);
      res.writeHead(200, headers);
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      try {
        await pipeline(createReadStream(file), res);
      } catch (err) {
        // a client that went away mid-transfer is routine; anything else (the build replaced mid-read) is worth a line
        if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') console.warn(`[frankenscope] serving ${relative} failed: ${(err as Error).message}`);
        res.destroy();
      }
    },
  };
}

function sendNotBuilt(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(req.method === 'HEAD' ? undefined : NOT_BUILT_PAGE);
}
