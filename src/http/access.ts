/**
 * Who may talk to the server: requests must name this server in their Host
 * header (host-guard.ts), and when a token is configured, /graphql wants it
 * as a Bearer header. The dashboard's static files need no token: they hold
 * no data, and the page must load to read its token from the URL.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppConfig } from '../config.js';
import { createTokenCheck } from './bearer-token.js';
import { createHostGuard, isLoopbackHost, parseHostHeader } from './host-guard.js';
import { sendJsonError } from './json-error.js';

/** A configuration the server refuses to start with. */
export class UnsafeBindingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeBindingError';
  }
}

/**
 * Listening beyond this machine without a token would hand `sql` and every
 * analysis to the network. Also checks the allow-list's entries, so that a
 * bad one fails the start rather than every request.
 */
export function assertSafeBinding(config: Pick<AppConfig, 'host' | 'token' | 'allowedHosts'>): void {
  for (const entry of config.allowedHosts) {
    if (!parseHostHeader(entry)) throw new UnsafeBindingError(`FRANKENSCOPE_ALLOWED_HOSTS: '${entry}' is not a host name or host:port`);
  }
  if (config.token || isLoopbackHost(config.host)) return;
  throw new UnsafeBindingError(
    `HOST=${config.host} is not a loopback address, so FRANKENSCOPE_TOKEN is required: set it to a secret of at least 16 characters ` +
      `(e.g. $(openssl rand -hex 24)) and open the dashboard once as http://<host>:<port>/?token=<token>, or listen on 127.0.0.1`,
  );
}

/** Answers a refused request itself and returns false; true lets it through. */
export type AccessGate = (req: IncomingMessage, res: ServerResponse, pathname: string) => boolean;

export function createAccessGate(config: Pick<AppConfig, 'host' | 'token' | 'allowedHosts'>, port: number): AccessGate {
  const hostAllowed = createHostGuard({ host: config.host, port, allowedHosts: config.allowedHosts });
  const tokenValid = config.token ? createTokenCheck(config.token) : null;
  return (req, res, pathname) => {
    if (!hostAllowed(req.headers.host)) {
      // the body is not read: closing spares the server from draining it
      sendJsonError(res, 403, 'HOST_NOT_ALLOWED', `this server does not answer requests for host '${(req.headers.host ?? '').slice(0, 200)}'; use localhost, 127.0.0.1 or a name in FRANKENSCOPE_ALLOWED_HOSTS`, {
        connection: 'close',
      });
      return false;
    }
    if (pathname === '/graphql' && tokenValid && !tokenValid(req.headers.authorization)) {
      sendJsonError(res, 401, 'UNAUTHENTICATED', 'this server requires its access token: send Authorization: Bearer <FRANKENSCOPE_TOKEN>, or open the dashboard once with ?token=<token>', {
        'www-authenticate': 'Bearer realm="frankenscope"',
        connection: 'close',
      });
      return false;
    }
    return true;
  };
}
