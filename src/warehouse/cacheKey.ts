import { createHash } from 'node:crypto';
import { canonicalJson } from './canonicalJson.js';

/** What identifies a result: same parts, same key, served from the warehouse. */
export interface CacheKeyParts {
  kind: string;
  params: unknown;
  /** content fingerprints of the inputs, in the analysis's own order (order matters: base, sft, rl) */
  inputFingerprints: readonly string[];
  engineVersion: string;
}

/** sha256 hex of the canonical JSON of the parts. */
export function cacheKey(parts: CacheKeyParts): string {
  const text = canonicalJson({
    kind: parts.kind,
    params: parts.params,
    inputFingerprints: [...parts.inputFingerprints],
    engineVersion: parts.engineVersion,
  });
  return createHash('sha256').update(text).digest('hex');
}
