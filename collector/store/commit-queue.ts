// Group commit: writes from many agents are queued and committed together, one synced
// transaction per group instead of one per batch. The store hands the queue its writes as
// closures; the queue decides when a group is cut and hands the store the group to run in one
// transaction. Each write's promise settles only after the group's COMMIT returned, so a caller
// that acks on resolution acks only what is durable.
//
// Contract for a store's `runGroup(works)` (SQLite: sqlite.ts; PostgreSQL: same shape, with one
// multi-row insert per table where it can):
//   - open one transaction, run the works in the order given (so two writes of one agent in one
//     group commit in arrival order, and the second sees the first),
//   - isolate each work (a savepoint, or checks before any write) so one that throws leaves no
//     trace and does not affect the others: its outcome is { error },
//   - commit, then return one outcome per work; if the commit itself fails, throw: every write of
//     the group is then rejected with that error (nothing of it is durable).
//
// Bounds: a group holds at most maxItems writes and maxWeight weight (the store's measure of how
// long a write holds the database, e.g. samples or KiB), and is cut at the
// latest maxDelayMs after its first write arrived. Small control writes (verdict leases, verdicts)
// may be submitted `urgent`: they go ahead of the batches waiting (in their own arrival order), so
// a flood of agent batches does not hold classification back by a whole queue of commits.
// The queue itself is bounded by its callers:
// each agent connection has at most one batch in flight (frames are handled in order), so at
// most `maxAgents` writes wait here.

export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitOptions {
  /** Longest a write waits for others to join its group (0: the group is cut after the current I/O phase). */
  maxDelayMs: number;
  /** Most writes in one group. */
  maxItems: number;
  /** Most weight in one group (SQLite: a sample or a KiB stored is one unit); a single heavier write still goes alone. */
  maxWeight: number;
}

export const defaultGroupCommit: GroupCommitOptions = { maxDelayMs: 4, maxItems: 1000, maxWeight: 5_000 };

/** Figures for metrics and tests. */
export interface GroupCommitStats {
  groups: number;
  writes: number;
  largestGroup: number;
  /** Groups whose commit failed (every write of them rejected). */
  failedGroups: number;
}

interface Pending {
  work: () => unknown;
  weight: number;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class CommitQueue {
  private queue: Pending[] = [];
  /** Urgent writes at the front of the queue. */
  private urgent = 0;
  private queuedWeight = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  /** The group being committed (an async store has one in flight at a time). */
  private inFlight: Promise<void> | null = null;
  private closed = false;
  readonly stats: GroupCommitStats = { groups: 0, writes: 0, largestGroup: 0, failedGroups: 0 };

  constructor(
    private readonly runGroup: (works: Array<() => unknown>) => Outcome<unknown>[] | Promise<Outcome<unknown>[]>,
    private readonly opts: GroupCommitOptions = defaultGroupCommit,
  ) {
    if (!(opts.maxItems >= 1) || !(opts.maxWeight >= 1) || !(opts.maxDelayMs >= 0)) throw new Error('group commit: maxItems and maxWeight must be >= 1, maxDelayMs >= 0');
  }

  /**
   * Queues a write; resolves with its value once the group holding it is committed. `urgent`:
   * ahead of the non-urgent writes waiting (for small writes that others wait on, not batches).
   */
  submit<R>(work: () => R, weight = 1, urgent = false): Promise<R> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<R>((resolve, reject) => {
      const p = { work, weight, resolve: resolve as (v: unknown) => void, reject };
      if (urgent) this.queue.splice(this.urgent++, 0, p);
      else this.queue.push(p);
      this.queuedWeight += weight;
      this.schedule();
    });
  }

  /** Pending writes (for metrics). */
  get depth(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.inFlight) return; // cut when the group in flight has committed
    const full = this.queue.length >= this.opts.maxItems || this.queuedWeight >= this.opts.maxWeight;
    if (full) {
      // Cut now, not in a later phase of the event loop: a flood of frames read in one I/O phase
      // (10,000 agents) would otherwise all be verified and decoded, held in memory, before the
      // first commit and the first ack. A synchronous store commits right here.
      void this.cut();
      return;
    }
    if (this.opts.maxDelayMs === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.immediate ??= setImmediate(() => void this.cut());
    } else {
      this.timer ??= setTimeout(() => void this.cut(), this.opts.maxDelayMs);
    }
  }

  /** Takes the next group off the queue (bounded) and commits it. */
  private async cut(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    if (this.inFlight || this.queue.length === 0) return;
    let n = 0;
    let weight = 0;
    while (n < this.queue.length && n < this.opts.maxItems && (n === 0 || weight + this.queue[n]!.weight <= this.opts.maxWeight)) weight += this.queue[n++]!.weight;
    const group = this.queue.splice(0, n);
    this.urgent = Math.max(0, this.urgent - n);
    this.queuedWeight -= weight;
    const done = this.commit(group);
    this.inFlight = done;
    await done;
    this.inFlight = null;
    if (this.queue.length) this.schedule();
  }

  private async commit(group: Pending[]): Promise<void> {
    let outcomes: Outcome<unknown>[];
    try {
      outcomes = await this.runGroup(group.map((p) => p.work));
      if (outcomes.length !== group.length) throw new Error(`group commit: ${outcomes.length} outcomes for ${group.length} writes`);
    } catch (err) {
      this.stats.failedGroups++;
      for (const p of group) p.reject(err);
      return;
    }
    this.stats.groups++;
    this.stats.writes += group.length;
    this.stats.largestGroup = Math.max(this.stats.largestGroup, group.length);
    group.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
  }

  /** Commits everything queued (e.g. before closing); later submits are refused. */
  async drain(): Promise<void> {
    this.closed = true;
    while (this.inFlight || this.queue.length) {
      if (this.inFlight) await this.inFlight;
      else await this.cut();
    }
  }
}
