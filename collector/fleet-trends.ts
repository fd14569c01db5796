// The fleet list's sparklines (CPU, GPU, power over the 10 minutes up to a host's last data) kept
// in memory: ingest adds each stored sample to its host's ring of 10 s buckets, so a page of the
// fleet list reads 50 small rings instead of aggregating 50 x 600 stored samples. A host not in
// memory yet (after a restart, or evicted) is read from the store once, then kept up by ingest.
// Bounded: at most `maxHosts` rings (the least recently used goes), 60 buckets each.
import type { ISample } from '../proto/codec.js';
import { summarize, type SampleSummary } from './store/store.js';

export const TREND_MS = 10 * 60_000;
export const TREND_POINTS = 60;
const BUCKET_MS = TREND_MS / TREND_POINTS;

export interface Trend {
  tsMs: number[];
  cpuPct: number[];
  gpuPct: (number | null)[];
  powerWatts: (number | null)[];
}

// Per bucket: start, samples, cpu sum, gpu samples, gpu sum, power samples, power sum, newest ts.
const F = 8;

class Ring {
  readonly b = new Float64Array(TREND_POINTS * F).fill(-1);
  newestMs = 0;

  add(tsMs: number, cpu: number, gpu: number | null, power: number | null): void {
    const start = Math.floor(tsMs / BUCKET_MS) * BUCKET_MS;
    const i = (Math.floor(tsMs / BUCKET_MS) % TREND_POINTS) * F;
    const b = this.b;
    if (b[i] !== start) {
      // A bucket from an older lap (or none): start it afresh; one from a newer lap is not overwritten.
      if (b[i]! > start) return;
      b.fill(0, i, i + F);
      b[i] = start;
    }
    b[i + 1]! += 1;
    b[i + 2]! += cpu;
    if (gpu !== null) {
      b[i + 3]! += 1;
      b[i + 4]! += gpu;
    }
    if (power !== null) {
      b[i + 5]! += 1;
      b[i + 6]! += power;
    }
    b[i + 7] = Math.max(b[i + 7]!, tsMs);
    this.newestMs = Math.max(this.newestMs, tsMs);
  }

  /** Buckets within TREND_MS before `endMs`, oldest first. */
  trend(endMs: number): Trend {
    const rows: number[] = [];
    for (let k = 0; k < TREND_POINTS; k++) {
      const i = k * F;
      const start = this.b[i]!;
      if (start >= 0 && start > endMs - TREND_MS && start <= endMs && this.b[i + 1]! > 0) rows.push(i);
    }
    rows.sort((x, y) => this.b[x]! - this.b[y]!);
    const b = this.b;
    return {
      tsMs: rows.map((i) => b[i + 7]!),
      cpuPct: rows.map((i) => b[i + 2]! / b[i + 1]!),
      gpuPct: rows.map((i) => (b[i + 3]! > 0 ? b[i + 4]! / b[i + 3]! : null)),
      powerWatts: rows.map((i) => (b[i + 5]! > 0 ? b[i + 6]! / b[i + 5]! : null)),
    };
  }
}

export class FleetTrends {
  private readonly rings = new Map<string, Ring>();

  constructor(private readonly maxHosts = 20_000) {}

  get size(): number {
    return this.rings.size;
  }

  /** Ingest: samples just stored for a host (only hosts already in memory are kept up). */
  add(hostId: string, samples: ISample[]): void {
    const ring = this.rings.get(hostId);
    if (!ring) return;
    for (const s of samples) {
      const m = summarize(0, s);
      ring.add(m.tsMs, m.cpuPct, m.gpuUtilPct, m.powerWatts);
    }
  }

  /**
   * The trend ending at `endMs` (a host's last data); `load` reads stored summaries for a host
   * not in memory (one row per bucket), which seed its ring.
   */
  async trend(hostId: string, endMs: number, load: (fromMs: number, toMs: number, points: number) => Promise<SampleSummary[]>): Promise<Trend> {
    let ring = this.rings.get(hostId);
    if (ring) {
      // Most recently used last: the first key is the one to evict.
      this.rings.delete(hostId);
      this.rings.set(hostId, ring);
    } else {
      ring = new Ring();
      // Align the read to the ring's buckets so each stored bucket lands in exactly one.
      const toMs = Math.floor(endMs / BUCKET_MS) * BUCKET_MS + BUCKET_MS - 1;
      const fromMs = toMs + 1 - TREND_MS;
      for (const r of await load(fromMs, toMs, TREND_POINTS)) ring.add(r.tsMs, r.cpuPct, r.gpuUtilPct, r.powerWatts);
      // Seeded (not counted as samples) only once: a concurrent seed of the same host keeps the first.
      const again = this.rings.get(hostId);
      if (again) ring = again;
      else {
        this.rings.set(hostId, ring);
        if (this.rings.size > this.maxHosts) this.rings.delete(this.rings.keys().next().value!);
      }
    }
    return ring.trend(endMs);
  }
}
