/**
 * Gathers requests into batches that one transaction stores (group commit), so under load the cost
 * of a commit - and of the lock that orders the event log - is shared:
 * - what arrives in the same turn of the event loop, or while a batch is being stored, goes into
 *   the next batch;
 * - a batch starts no sooner than `minIntervalMs` after the one before it started. A quiet server
 *   commits at once (the last commit is long past); a busy one commits every few milliseconds with
 *   everything that arrived meanwhile, instead of once per message: a SQLite commit costs about
 *   150 us whatever it holds (pages written to the WAL, the search index's new segment), so one
 *   message per transaction spent most of a core on commits at 1,200 sends a second.
 * One batch at a time per instance; the lock orders instances.
 */
/** The writers' commit interval (GroupCommit's minIntervalMs): adds at most this to a send's latency under load. */
export const COMMIT_INTERVAL_MS = 3;

export class GroupCommit<Request, Result> {
  private pending: { request: Request; resolve(result: Result): void; reject(error: unknown): void }[] = [];
  private flushing = false;
  /** When the last batch started (performance.now()), or never. */
  private lastStart = Number.NEGATIVE_INFINITY;

  constructor(
    /** Stores one batch and answers each request, in order. */
    private readonly commit: (batch: readonly Request[]) => Promise<Result[]>,
    private readonly maxBatch = 100,
    private readonly minIntervalMs = 0,
    /** Told each batch's size before it is stored (metrics). */
    private readonly onBatch: (size: number) => void = () => undefined,
  ) {}

  submit(request: Request): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        this.schedule();
      }
    });
  }

  private schedule(): void {
    const wait = this.lastStart + this.minIntervalMs - performance.now();
    // Either way what arrives in this turn (frames read from many sockets at once) joins the batch.
    if (wait > 0) setTimeout(() => void this.flush(), wait);
    else setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, this.maxBatch);
    this.onBatch(batch.length);
    this.lastStart = performance.now();
    try {
      const results = await this.commit(batch.map((p) => p.request));
      for (const [i, p] of batch.entries()) p.resolve(results[i] as Result);
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
    if (this.pending.length > 0) this.schedule();
    else this.flushing = false;
  }
}
