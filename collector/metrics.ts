import type { GroupCommitStats } from './store/commit-queue.js';
import type { ChainReadStats } from './store/chain-read.js';

// Collector counters, exposed in Prometheus text format on /metrics.
export class CollectorMetrics {
  readonly rejects = new Map<string, number>();
  framesIn = 0;
  samplesStored = 0;
  samplesDuplicate = 0;
  /** Process signature references (ProcessSignature.same_as) that named no stored signature. */
  signatureRefsUnresolved = 0;
  connectedAgents = 0;
  /** The store's group commits (null: a store without a commit queue). */
  groupCommit: GroupCommitStats | null = null;
  /** Chained batches the store's reads left out for want of their prior (collector/store/chain-read.ts). */
  chainReads: ChainReadStats | null = null;
  /** Classification waiting behind ingest (classify-queue.ts). */
  classify: {
    backlogHosts: () => number;
    backlogBytes: () => number;
    droppedSamples: () => number;
    classifiedSamples: () => number;
    unreadableBatches: () => number;
    turns: () => number;
    /** Times turns waited for the engine's share of the event loop (classify-queue.ts engineShare). */
    throttled: () => number;
    /** Milliseconds of engine work (Classifier.engineMs). */
    engineMs: () => number;
  } | null = null;

  reject(reason: string): void {
    this.rejects.set(reason, (this.rejects.get(reason) ?? 0) + 1);
  }
}
