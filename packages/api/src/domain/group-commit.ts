/**
 * Gathers requests into batches that one transaction stores (group commit): what arrives in the
 * same turn of the event loop, or while a batch is being stored, goes into the next batch, so under
 * load the cost of a commit - and of the lock that orders the event log - is shared. One batch at a
 * time per instance; the lock orders instances.
 */
export class GroupCommit<Request, Result> {
  private pending: { request: Request; resolve(result: Result): void; reject(error: unknown): void }[] = [];
  private flushing = false;

  constructor(
    /** Stores one batch and answers each request, in order. */
    private readonly commit: (batch: readonly Request[]) => Promise<Result[]>,
    private readonly maxBatch = 100,
    /** Told each batch's size before it is stored (metrics). */
    private readonly onBatch: (size: number) => void = () => undefined,
  ) {}

  submit(request: Request): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      if (!this.flushing) {
        // Gather what arrives in the same turn of the event loop (frames read from many sockets
        // at once) into the first batch; later arrivals wait for the batch being stored.
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.onBatch(batch.length);
      try {
        const results = await this.commit(batch.map((p) => p.request));
        for (const [i, p] of batch.entries()) p.resolve(results[i] as Result);
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.flushing = false;
  }
}
