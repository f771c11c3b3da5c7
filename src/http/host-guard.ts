/**
 * The Host allow-list. A page on another site can rebind its own DNS name
 * to 127.0.0.1; the browser then treats this server as that page's origin
 * and CORS no longer stands in the way. Such a request still names the
 * attacker's host in its Host header, so every request whose Host is not
 * this server's own name (with its port) is refused.
 */
import { isIP } from 'node:net';

export interface HostGuardOptions {
  /** HOST the server listens on */
  host: string;
  /** the port actually bound (known after listen) */
  port: number;
  /** further names the server is reached by (FRANKENSCOPE_ALLOWED_HOSTS): `name` or `name:port` */
  allowedHosts: readonly string[];
}

/** Addresses that mean "every interface": nobody reaches a server by that name. */
const UNSPECIFIED = new Set(['0.0.0.0', '::', '[::]']);

/** `localhost`, 127.0.0.0/8 and ::1: only a program on this machine reaches them. */
export function isLoopbackHost(host: string): boolean {
  const name = stripBrackets(host.toLowerCase());
  if (name === 'localhost' || name === '::1') return true;
  return isIP(name) === 4 && name.startsWith('127.');
}

function stripBrackets(name: string): string {
  return name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
}

/** `name` as a Host header writes it: IPv6 literals in brackets, lower case. */
function hostName(name: string): string {
  const bare = stripBrackets(name.trim().toLowerCase());
  return isIP(bare) === 6 ? `[${bare}]` : bare;
}

/**
 * Splits a Host header into name and port; null when it is not one
 * (userinfo, a path, an empty name, a port out of range).
 */
export function parseHostHeader(value: string): { name: string; port: number | null } | null {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:/@[\]?#]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!match) return null;
  const port = match[2] === undefined ? null : Number(match[2]);
  if (port !== null && port > 65535) return null;
  return { name: hostName(match[1]!), port };
}

export type HostCheck = (hostHeader: string | undefined) => boolean;

export function createHostGuard(options: HostGuardOptions): HostCheck {
  // name -> ports it is accepted with; an entry without a port takes the server's
  const allowed = new Map<string, Set<number>>();
  const allow = (name: string, port: number) => {
    const key = hostName(name);
    allowed.set(key, (allowed.get(key) ?? new Set()).add(port));
  };
  for (const name of ['localhost', '127.0.0.1', '[::1]']) allow(name, options.port);
  if (!UNSPECIFIED.has(options.host.trim())) allow(options.host, options.port);
  for (const entry of options.allowedHosts) {
    const parsed = parseHostHeader(entry);
    if (!parsed) throw new RangeError(`FRANKENSCOPE_ALLOWED_HOSTS: '${entry}' is not a host name or host:port`);
    allow(parsed.name, parsed.port ?? options.port);
  }
  return (hostHeader) => {
    if (!hostHeader) return false;
    const parsed = parseHostHeader(hostHeader);
    if (!parsed) return false;
    // browsers leave the port out when it is the scheme's default
    const port = parsed.port ?? 80;
    return allowed.get(parsed.name)?.has(port) ?? false;
  };
}
