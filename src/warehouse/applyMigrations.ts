import type { DbConnection } from './duckdbBinding.js';
import { inTransaction } from './inTransaction.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { WarehouseError } from './WarehouseError.js';

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name VARCHAR NOT NULL,
  applied_at TIMESTAMP NOT NULL)`;

/**
 * Brings the schema to SCHEMA_VERSION, each pending migration in its own
 * transaction; a no-op when already there. Read-only warehouses are only
 * checked. A file written by a newer frankenscope is refused rather than
 * misread.
 */
export async function applyMigrations(connection: DbConnection, options: { readOnly: boolean; now: Date }): Promise<void> {
  if (!options.readOnly) await connection.run(CREATE_LEDGER);
  const current = await currentVersion(connection);
  if (current > SCHEMA_VERSION) {
    throw new WarehouseError('SCHEMA_MISMATCH', `warehouse schema version ${current} is newer than this frankenscope's ${SCHEMA_VERSION}`);
  }
  if (current === SCHEMA_VERSION) return;
  if (options.readOnly) {
    throw new WarehouseError(
      'SCHEMA_MISMATCH',
      `warehouse schema version ${current} is older than ${SCHEMA_VERSION}; open it read-write once to migrate`,
    );
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    await inTransaction(connection, async () => {
      for (const statement of migration.statements) await connection.run(statement);
      await connection.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        options.now,
      ]);
    });
  }
}

async function currentVersion(connection: DbConnection): Promise<number> {
  const ledger = await connection.all(
    "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'main' AND table_name = 'schema_migrations'",
  );
  if (ledger[0]?.n === 0) return 0;
  const rows = await connection.all('SELECT coalesce(max(version), 0) AS version FROM schema_migrations');
  return Number(rows[0]?.version ?? 0);
}
