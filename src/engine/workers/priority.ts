/**
 * Analyses in a server yield the CPU to requests: a worker thread lowers its
 * own scheduling priority (on Linux setpriority with pid 0 applies to the
 * calling thread only, and threads it starts later inherit it).
 */
import { setPriority } from 'node:os';

/** Niceness of analysis threads under a server: low enough that the request thread is scheduled first. */
export const BACKGROUND_NICENESS = 10;

/** Lowers the calling thread's priority; where the OS refuses, the analysis simply runs at normal priority. */
export function lowerThreadPriority(): void {
  try {
    setPriority(BACKGROUND_NICENESS);
  } catch {
    // a platform without per-thread priorities: correctness does not depend on it
  }
}
