/**
 * HTTP server: GraphQL (Apollo Server 5) at /graphql on a plain node:http
 * server, so the dashboard can later be served from the same port.
 */
import 'reflect-metadata';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type App } from './app.js';
import type { AppConfig } from './config.js';
import { buildAppSchema } from './resolvers/build-schema.js';
import { createRequestContext, type RequestContext } from './resolvers/context.js';

export interface RunningServer {
  url: string;
  app: App;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;

/** A request body over MAX_BODY_BYTES: answered 413, not 500. */
class BodyTooLarge extends RangeError {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge('request body larger than 1 MiB'));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const INDEX_PAGE = `<!doctype html><meta charset="utf-8"><title>frankenscope</title>
<h1>frankenscope</h1><p>GraphQL endpoint: <code>POST /graphql</code>. See the README for example queries.</p>`;

export async function startServer(config: AppConfig, options: { app?: App } = {}): Promise<RunningServer> {
  const app = options.app ?? (await createApp(config));
  try {
    return await serve(config, app);
  } catch (err) {
    if (!options.app) await app.close();
    throw err;
  }
}

async function serve(config: AppConfig, app: App): Promise<RunningServer> {
  const http = createServer();
  const apollo = new ApolloServer<RequestContext>({
    schema: await buildAppSchema(),
    includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginDrainHttpServer({ httpServer: http })],
  });
  await apollo.start();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(INDEX_PAGE);
      return;
    }
    if (url.pathname !== '/graphql') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    let body: unknown = undefined;
    if (req.method === 'POST') {
      let text: string;
      try {
        text = await readBody(req);
      } catch (err) {
        if (!(err instanceof BodyTooLarge)) throw err;
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ errors: [{ message: err.message, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] }));
        return;
      }
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] }));
        return;
      }
    }
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: async () => createRequestContext(app.services),
    });
    for (const [k, v] of result.headers) res.setHeader(k, v);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  };
  http.on('request', (req, res) => {
    handle(req, res).catch((err) => {
      console.error('[frankenscope] request failed:', err);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://${config.host}:${port}/graphql`,
    app,
    async close() {
      await apollo.stop();
      await app.close();
    },
  };
}
