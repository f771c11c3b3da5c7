import { existsSync } from 'node:fs';
import type { DbConnection } from '../duckdbBinding.js';
import { inTransaction } from '../inTransaction.js';
import { errorMessage } from '../WarehouseError.js';
import { writeReferenceFiles, writeRunFiles, type LakeRun } from './lakeFiles.js';
import { runRowFile } from './lakePaths.js';
import { ParquetCopier } from './ParquetCopier.js';
import { removeStaleTempFiles } from './staleTempFiles.js';

/** Where the lake goes and where its failures are reported. */
export interface LakeOptions {
  /** the lake folder (FRANKENSCOPE_LAKE) */
  root: string;
  /** one line per lake write that failed or was abandoned; default console.error */
  log?: (line: string) => void;
}

/** Lets the writer read the warehouse on a connection of its own. */
export type WithConnection = <T>(work: (connection: DbConnection) => Promise<T>) => Promise<T>;

const FIX = 'the warehouse keeps it; it is written at the next server start, or run `frankenscope export --parquet DIR` with the server stopped';

/**
 * Mirrors DONE runs into the Parquet lake, one task at a time, after their
 * transaction committed and off the caller's path: `runDone` only queues.
 * A failed write (disk full, permission denied) is logged with the run id
 * and never reaches the run, which stays DONE in the warehouse; the next
 * start's backfill writes what is missing, since a run's `runs` file is
 * written last and marks it complete.
 */
export class LakeWriter {
  readonly #root: string;
  readonly #log: (line: string) => void;
  readonly #read: WithConnection;
  #copier: Promise<ParquetCopier> | undefined;
  #copierReady: ParquetCopier | undefined;
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  #referencesQueued = false;
  #closed = false;

  constructor(options: LakeOptions, read: WithConnection) {
    this.#root = options.root;
    this.#log = options.log ?? ((line) => console.error(line));
    this.#read = read;
  }

  /** Queues a run that just became DONE (and a refresh of the reference tables it joins). */
  runDone(runId: string): void {
    this.#enqueue(`run ${runId}`, () => this.#writeRun(runId));
    this.referencesChanged();
  }

  /** Queues a rewrite of the reference tables; one queued rewrite covers every change made before it starts. */
  referencesChanged(): void {
    if (this.#referencesQueued) return;
    this.#referencesQueued = true;
    this.#enqueue('reference tables', async () => {
      this.#referencesQueued = false;
      await this.#read((connection) => inTransaction(connection, async () => writeReferenceFiles(await this.#copy(), connection, this.#root)));
    });
  }

  /** Queues the DONE runs the lake lacks (finished before the lake existed, or whose write failed or was cut short). */
  backfill(): void {
    this.#enqueue('backfill', async () => {
      removeStaleTempFiles(this.#root);
      const runs = await this.#read((connection) => connection.all(`SELECT id, kind FROM runs WHERE status = 'DONE' ORDER BY finished_at, id`));
      for (const row of runs) {
        const run: LakeRun = { id: String(row.id), kind: String(row.kind) };
        if (!existsSync(runRowFile(this.#root, run.id))) this.#enqueue(`run ${run.id}`, () => this.#writeRun(run.id));
      }
    });
    this.referencesChanged();
  }

  /** Resolves once every queued write has ended (written, or failed and logged). */
  async settled(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.#tail;
      await seen;
    } while (seen !== this.#tail);
  }

  /**
   * Abandons the queue: the copy in progress is interrupted and its temp file
   * removed (never renamed into place); runs not yet written are left for the
   * next start's backfill.
   */
  closeSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pending > 0) this.#log(`[frankenscope] lake: stopped with ${this.#pending} write(s) unfinished in ${this.#root}; they are written at the next server start`);
    // one still opening is closed as soon as it is open; a failure to close must not keep the warehouse open
    const release = (copier: ParquetCopier) => {
      try {
        copier.closeSync();
      } catch (error) {
        this.#log(`[frankenscope] lake: closing the Parquet writer failed: ${errorMessage(error)}`);
      }
    };
    if (this.#copierReady) release(this.#copierReady);
    else void this.#copier?.then(release, () => undefined);
  }

  #enqueue(what: string, task: () => Promise<unknown>): void {
    if (this.#closed) return;
    this.#pending++;
    this.#tail = this.#tail.then(async () => {
      try {
        if (!this.#closed) await task();
      } catch (error) {
        if (!this.#closed) this.#log(`[frankenscope] lake: ${what} was not written to ${this.#root}: ${errorMessage(error)}; ${FIX}`);
      } finally {
        this.#pending--;
      }
    });
  }

  async #writeRun(runId: string): Promise<void> {
    await this.#read(async (connection) => {
      const rows = await connection.all(`SELECT kind FROM runs WHERE id = ? AND status = 'DONE'`, [runId]);
      if (rows.length === 0) return;
      const run: LakeRun = { id: runId, kind: String(rows[0]!.kind) };
      // a DONE run's rows never change: once its runs file is there, it is complete
      if (existsSync(runRowFile(this.#root, run.id))) return;
      await writeRunFiles(await this.#copy(), connection, this.#root, run);
    });
  }

  #copy(): Promise<ParquetCopier> {
    // a copier that failed to start is not kept: the next task tries again
    this.#copier ??= ParquetCopier.create().then(
      (copier) => (this.#copierReady = copier),
      (error: unknown) => {
        this.#copier = undefined;
        throw error;
      },
    );
    return this.#copier;
  }
}
