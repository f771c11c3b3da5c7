/**
 * Lets requests start one per event-loop turn, in arrival order.
 *
 * Why: libuv (since 1.45, Node 20) accepts one pending connection per loop
 * turn, and a turn runs every request whose bytes have arrived. Under load
 * a turn held 20 cached reads (~30 ms), so the 50th client of a burst waited
 * about 50 turns just to be accepted: p99 950 ms for a plain Node server
 * doing 1.5 ms of work per request, 150 ms with this gate (bench/serve-load.ts
 * measures the real server). Starting one request per turn keeps turns short,
 * so the accept queue and every socket are polled between requests.
 *
 * Only the start is gated: a request that awaits I/O lets the next one begin.
 */
export interface RequestTurns {
  /** Resolves when it is this request's turn to start. */
  next(): Promise<void>;
  /** Requests waiting for their turn (for tests and diagnostics). */
  readonly waiting: number;
}

export function createRequestTurns(): RequestTurns {
  const queue: (() => void)[] = [];
  let scheduled = false;
  // an immediate queued from within an immediate runs on the next turn, after the poll phase
  const releaseOne = () => {
    queue.shift()?.();
    if (queue.length > 0) setImmediate(releaseOne);
    else scheduled = false;
  };
  return {
    next: () =>
      new Promise<void>((resolve) => {
        queue.push(resolve);
        if (!scheduled) {
          scheduled = true;
          setImmediate(releaseOne);
        }
      }),
    get waiting() {
      return queue.length;
    },
  };
}
