import { SCHEMA_V1 } from './schemaV1.js';
import { SCHEMA_V2 } from './schemaV2.js';
import { SCHEMA_V3 } from './schemaV3.js';
import { SCHEMA_V4 } from './schemaV4.js';
import { SCHEMA_V5 } from './schemaV5.js';

/** One schema step, applied once in its own transaction and recorded in `schema_migrations`. */
export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

/** Every migration, in version order. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'checkpoints, runs, characterization', statements: SCHEMA_V1 },
  { version: 2, name: 'probe sets, examples, layer effects, example results', statements: SCHEMA_V2 },
  { version: 3, name: 'probe sets record the examples left out', statements: SCHEMA_V3 },
  { version: 4, name: 'probe sets in the GSM8K and MATH-500 formats', statements: SCHEMA_V4 },
  { version: 5, name: 'staged work units of runs', statements: SCHEMA_V5 },
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
