// Per-key admission: token buckets (sample rate per agent, failed enrollments per address) and a
// per-address count of connections that have not authenticated yet. Both are bounded maps, so a
// flood of distinct keys cannot grow them without limit.

/** Token buckets keyed by a string; at most `maxKeys` kept (full buckets are forgotten first). */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    private readonly perSec: number,
    private readonly burst: number,
    private readonly now: () => number,
    private readonly maxKeys = 10_000,
  ) {}

  private refill(key: string): { tokens: number; atMs: number } {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, atMs: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.atMs) / 1000) * this.perSec);
    b.atMs = t;
    return b;
  }

  /** Whether `n` tokens are available now (takes nothing). */
  has(key: string, n = 1): boolean {
    return this.buckets.has(key) ? this.refill(key).tokens >= n : this.burst >= n;
  }

  /** Takes `n` tokens if available; false (and nothing taken) otherwise. */
  take(key: string, n = 1): boolean {
    const b = this.refill(key);
    if (b.tokens < n) return false;
    b.tokens -= n;
    this.buckets.delete(key); // re-insert: the map's order is least recently used first
    this.buckets.set(key, b);
    this.evict();
    return true;
  }

  /** Takes up to `n` tokens, going no lower than empty (a penalty, e.g. one failed attempt). */
  drain(key: string, n = 1): void {
    const b = this.refill(key);
    b.tokens = Math.max(0, b.tokens - n);
    this.buckets.delete(key);
    this.buckets.set(key, b);
    this.evict();
  }

  private evict(): void {
    while (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
  }
}

/**
 * Counts live connections per address against a cap, and all of them against a total (so many
 * addresses — 127.0.0.2…250, an IPv6 /64 — cannot add up to any number); `acquire` refuses beyond either.
 */
export class AddressSlots {
  private readonly held = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly cap: number,
    private readonly maxTotal = Infinity,
  ) {}

  acquire(address: string): boolean {
    const n = this.held.get(address) ?? 0;
    if (n >= this.cap || this.total >= this.maxTotal) return false;
    this.held.set(address, n + 1);
    this.total++;
    return true;
  }

  release(address: string): void {
    const n = this.held.get(address);
    if (n === undefined) return;
    this.total--;
    if (n > 1) this.held.set(address, n - 1);
    else this.held.delete(address);
  }
}
