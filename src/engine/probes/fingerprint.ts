import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { ProbeExample } from './types.js';

const DOMAIN = 'frankenscope-probe-set/1\n';

/**
 * sha256 of a set's content: every example as canonical JSON (its images
 * carry their root-relative paths and the sha256 of their bytes), in id
 * order. Where the folder lies, its name and the line order do not count;
 * any byte of any image, answer or prompt does.
 */
export function probeSetFingerprint(examples: readonly ProbeExample[]): string {
  const hash = createHash('sha256').update(DOMAIN);
  const sorted = [...examples].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const example of sorted) hash.update(canonicalJson(example)).update('\n');
  return hash.digest('hex');
}
