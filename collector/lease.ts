// Which collector makes a host's verdicts when several share one database: a lease row per host
// (`verdicts:<host id>`), taken when free or lapsed, renewed while this collector gets the host's
// samples, released when it shuts down. The answer is cached for a third of the lease, so a busy
// host costs one lease query per ttl/3, not one per batch; a cached "held" always ends before the
// lease could lapse.
import type { Store } from './store/store.js';

export const defaultVerdictLeaseMs = 30_000;

export class VerdictLeases {
  /** Per host: the last answer and when to ask again. Entries not asked about for a whole lease are dropped. */
  private readonly cache = new Map<string, { held: boolean; untilMs: number }>();
  private lastSweepMs = 0;

  constructor(
    private readonly store: Pick<Store, 'acquireLease'>,
    readonly holder: string,
    readonly ttlMs: number = defaultVerdictLeaseMs,
    private readonly now: () => number = Date.now,
  ) {
    if (!(ttlMs >= 100)) throw new Error(`verdict lease of ${ttlMs} ms is too short (at least 100 ms)`);
  }

  async holds(hostId: string): Promise<boolean> {
    const now = this.now();
    this.sweep(now);
    const c = this.cache.get(hostId);
    if (c && now < c.untilMs) return c.held;
    const lease = await this.store.acquireLease(`verdicts:${hostId}`, this.holder, this.ttlMs);
    this.cache.set(hostId, { held: lease.held, untilMs: now + this.ttlMs / 3 });
    return lease.held;
  }

  /** The cached answer while it is valid, without asking the store (undefined: ask with holds). */
  cached(hostId: string): boolean | undefined {
    const c = this.cache.get(hostId);
    return c && this.now() < c.untilMs ? c.held : undefined;
  }

  /** Hosts whose answer is cached (bounded: quiet hosts are dropped after a lease). */
  get size(): number {
    return this.cache.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweepMs < this.ttlMs) return;
    this.lastSweepMs = now;
    for (const [host, c] of this.cache) if (c.untilMs < now - this.ttlMs) this.cache.delete(host);
  }
}
