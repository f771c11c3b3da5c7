/**
 * A fixed number of slots, handed out first come first served. A waiter
 * that runs out of time leaves the queue (its deadline is the caller's),
 * so the queue is bounded by time rather than by length.
 */
export class SlotGate {
  #free: number;
  readonly #waiting: { grant: () => void }[] = [];

  constructor(readonly slots: number) {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`SlotGate: 'slots' must be a positive integer, got ${slots}`);
    this.#free = slots;
  }

  /** Slots in use right now. */
  get busy(): number {
    return this.slots - this.#free;
  }

  /**
   * Resolves to a release function once a slot is free, or to undefined when
   * `waitMs` passes first. Call the release function exactly once.
   */
  acquire(waitMs: number): Promise<(() => void) | undefined> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve(this.#releaser());
        },
      };
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        resolve(undefined);
      }, Math.max(0, waitMs));
      this.#waiting.push(waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // the slot passes straight to the next waiter, so nobody can jump the queue
      if (next) next.grant();
      else this.#free++;
    };
  }
}
