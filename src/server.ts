/**
 * HTTP server: GraphQL (Apollo Server 5) at /graphql and the dashboard
 * (web/dist, built by `npm run build:web`) at / on one node:http server.
 */
import 'reflect-metadata';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { availableParallelism } from 'node:os';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createApp, type App } from './app.js';
import { PACKAGE_ROOT, type AppConfig } from './config.js';
import { buildAppSchema } from './resolvers/build-schema.js';
import { createRequestContext, type RequestContext } from './resolvers/context.js';
import { createStaticSite } from './static-site.js';
import { assertSafeBinding, createAccessGate, type AccessGate } from './http/access.js';
import { sendJsonError } from './http/json-error.js';
import { createRequestTurns } from './http/request-turns.js';
import { operationLimits, restoreLimitCode } from './http/operation-limits.js';
import { formatError } from './resolvers/translate-error.js';
import { documentOf, exceedsTokenLimit } from './http/token-limit.js';
import { resumeInterruptedRuns } from './services/units/resume-interrupted.js';

/** Where `npm run build:web` writes the dashboard. */
export const DEFAULT_WEB_ROOT = resolve(PACKAGE_ROOT, 'web/dist');

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

/** An origin that reaches the server and passes its Host check, for `host` as configured. */
export function serverOrigin(host: string, port: number): string {
  const name = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${isIP(name) === 6 ? `[${name}]` : name}:${port}`;
}

export interface ServerOptions {
  /** an app to serve instead of creating one (the caller keeps it) */
  app?: App;
  /** the built dashboard to serve at / (default web/dist) */
  webRoot?: string;
}

/**
 * Throws before opening anything when HOST is not a loopback address and no
 * FRANKENSCOPE_TOKEN is set (UnsafeBindingError).
 */
/** Analysis threads while serving: every core but one, which stays with the requests. */
function servingThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

export async function startServer(config: AppConfig, options: ServerOptions = {}): Promise<RunningServer> {
  assertSafeBinding(config);
  const app = options.app ?? (await createApp({ ...config, engineThreads: config.engineThreads ?? servingThreads(), backgroundAnalyses: true }));
  try {
    const server = await serve(config, app, options.webRoot ?? DEFAULT_WEB_ROOT);
    const resuming = resumeInBackground(config, app);
    return {
      ...server,
      async close() {
        resuming.abort();
        await server.close();
      },
    };
  } catch (err) {
    if (!options.app) await app.close();
    throw err;
  }
}

/**
 * With a queue, the runs a stopped server left unfinished resume by
 * themselves once the server answers requests (workers compute them
 * whoever waits); without one they stay FAILED until asked for again.
 */
function resumeInBackground(config: AppConfig, app: App): AbortController {
  const stop = new AbortController();
  const interrupted = app.services.warehouse.interruptedAtOpen;
  if (!config.redisUrl || interrupted.length === 0) return stop;
  console.log(`[frankenscope] resuming ${interrupted.length} run(s) a stopped server left unfinished`);
  resumeInterruptedRuns(app.services, interrupted, { signal: stop.signal }).catch((err: unknown) => {
    console.warn(`[frankenscope] resuming interrupted runs failed: ${(err as Error).message}`);
  });
  return stop;
}

async function serve(config: AppConfig, app: App, webRoot: string): Promise<RunningServer> {
  const http = createServer();
  const site = createStaticSite(webRoot);
  const schema = await buildAppSchema();
  const limits = operationLimits(schema, config.limits);
  const apollo = new ApolloServer<RequestContext>({
    schema,
    includeStacktraceInErrorResponses: false,
    // explicit rather than Apollo's reading of NODE_ENV, so tests can set it per server
    introspection: !config.production,
    hideSchemaDetailsFromClientErrors: config.production,
    // limit refusals keep their codes; anything that escaped translation is masked with an id the log shares
    formatError: (formatted, error) => formatError(restoreLimitCode(formatted, error), error),
    validationRules: limits.validationRules,
    plugins: [...limits.plugins, ApolloServerPluginLandingPageDisabled(), ApolloServerPluginDrainHttpServer({ httpServer: http })],
  });
  await apollo.start();
  // the Host allow-list names the port actually bound (PORT=0 picks one)
  let admit: AccessGate | undefined;
  const turns = createRequestTurns();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    admit ??= createAccessGate(config, (http.address() as AddressInfo).port);
    if (!admit(req, res, url.pathname)) return;
    if (url.pathname !== '/graphql') {
      await site.handle(req, res, url.pathname);
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
        sendJsonError(res, 413, 'PAYLOAD_TOO_LARGE', err.message, { connection: 'close' });
        return;
      }
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        sendJsonError(res, 400, 'BAD_REQUEST', 'request body is not valid JSON');
        return;
      }
    }
    const document = documentOf(req.method ?? 'GET', body, url.searchParams);
    if (document !== undefined && exceedsTokenLimit(document, config.limits.maxTokens)) {
      const max = config.limits.maxTokens;
      sendJsonError(res, 400, 'TOO_MANY_TOKENS', `the document has more than ${max} tokens (FRANKENSCOPE_MAX_TOKENS)`, {}, { limit: max });
      return;
    }
    await turns.next();
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
    url: `${serverOrigin(config.host, port)}/graphql`,
    app,
    async close() {
      await apollo.stop();
      await app.close();
    },
  };
}
