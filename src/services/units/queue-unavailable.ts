/** A run needs the work queue and Redis does not answer; nothing was started or written. */
export class QueueUnavailable extends Error {
  constructor(readonly url: string, reason: string) {
    super(`the work queue at ${url} is unavailable (${reason}); new runs wait for Redis to answer again, finished results still read from the warehouse`);
    this.name = 'QueueUnavailable';
  }
}
