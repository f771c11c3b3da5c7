/**
 * The paper's published pair set, shipped beside the repository in
 * ../shared/datasets (or where FRANKENSCOPE_REFERENCE_DATASET points). Tests
 * that read it fail with how to provide it rather than skip.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const REFERENCE_DATASET = process.env.FRANKENSCOPE_REFERENCE_DATASET
  ?? fileURLToPath(new URL('../../../shared/datasets/vision_functionality', import.meta.url));

export function requireReferenceDataset(): void {
  expect(existsSync(REFERENCE_DATASET), `the reference dataset is not at ${REFERENCE_DATASET}: put shared/datasets/vision_functionality beside the repository or set FRANKENSCOPE_REFERENCE_DATASET`).toBe(true);
}
