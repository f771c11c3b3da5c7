import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { ProbeExample } from './types.js';

const DOMAIN = 'frankenscope-probe-set/1\n';

const codeUnitOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * sha256 of a set's content: every example as canonical JSON (its images
 * carry their root-relative paths and the sha256 of their bytes), in id
 * order. Where the folder lies, its name and the line order do not count;
 * any byte of any image, answer or prompt does.
 *
 * `skippedIds` (examples of the file left out for an unusable image) count
 * too, so a set registered without some examples never shares a fingerprint,
 * and so cached results, with the complete set once the files are repaired.
 * A complete set hashes exactly as before skipping existed.
 */
export function probeSetFingerprint(examples: readonly ProbeExample[], skippedIds: readonly string[] = []): string {
  const hash = createHash('sha256').update(DOMAIN);
  const sorted = [...examples].sort((a, b) => codeUnitOrder(a.id, b.id));
  for (const example of sorted) hash.update(canonicalJson(example)).update('\n');
  // example lines are JSON objects, so this line cannot be mistaken for one
  if (skippedIds.length > 0) hash.update('skipped ').update(canonicalJson([...skippedIds].sort(codeUnitOrder))).update('\n');
  return hash.digest('hex');
}
