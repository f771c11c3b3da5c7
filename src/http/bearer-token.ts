/**
 * The access token (FRANKENSCOPE_TOKEN) that a server reachable from other
 * machines requires on /graphql, as `Authorization: Bearer <token>`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Shorter tokens could be guessed over the network; `openssl rand -hex 24` makes a good one. */
export const MIN_TOKEN_LENGTH = 16;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export type TokenCheck = (authorization: string | undefined) => boolean;

/**
 * Compares in constant time: both sides are hashed first so that neither
 * the token's length nor its first differing byte shows in the timing.
 */
export function createTokenCheck(token: string): TokenCheck {
  const expected = digest(token);
  return (authorization) => {
    const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
    return match !== null && timingSafeEqual(digest(match[1]!), expected);
  };
}
