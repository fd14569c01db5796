// Classification off the ingest path. Ingest hands over each committed batch's samples (cheap:
// a map insert) and acks at once; hosts are classified in arrival order, the engine running for
// one host at a time, in short slices between I/O phases, so an ack never waits behind the engine. A host that sends again
// before its turn has its samples merged into one turn (one evaluation instead of one per
// batch), so when the engine cannot keep up with the fleet, evaluations get rarer while ingest
// keeps its pace. Bounded: one entry per host with work pending (hosts are bounded by
// --max-agents) and at most maxSamplesPerHost samples in it (the oldest are dropped, counted).
import type { ISample } from '../proto/codec.js';

export interface ClassifyQueueOptions {
  /** Longest stretch of classification work before I/O gets its turn. */
  sliceMs: number;
  /** Most samples waiting for one host; beyond it the oldest are dropped. */
  maxSamplesPerHost: number;
  /** Most turns started and not yet ended (each may wait for a commit). */
  maxRunning: number;
}

export const defaultClassifyQueue: ClassifyQueueOptions = { sliceMs: 10, maxSamplesPerHost: 600, maxRunning: 256 };

export class ClassifyQueue {
  /** Hosts with samples waiting, oldest first (a Map keeps insertion order). */
  private readonly pending = new Map<string, ISample[]>();
  private scheduled = false;
  private busy: Promise<void> | null = null;
  /** Hosts whose turn has started and not ended (waiting for their verdict's commit). */
  private readonly running = new Set<string>();
  /** Samples dropped because a host's pending list was full. */
  dropped = 0;
  /** Turns taken (each is one Classifier.add call). */
  turns = 0;

  constructor(
    private readonly run: (hostId: string, samples: ISample[]) => Promise<void>,
    private readonly opts: ClassifyQueueOptions = defaultClassifyQueue,
    private readonly onError: (hostId: string, err: Error) => void = () => undefined,
  ) {}

  add(hostId: string, samples: ISample[]): void {
    if (samples.length === 0) return;
    const waiting = this.pending.get(hostId);
    const list = waiting ?? [];
    for (const s of samples) list.push(s);
    const over = list.length - this.opts.maxSamplesPerHost;
    if (over > 0) {
      list.splice(0, over);
      this.dropped += over;
    }
    if (!waiting) this.pending.set(hostId, list);
    this.schedule();
  }

  /** Hosts waiting for their turn. */
  get backlog(): number {
    return this.pending.size;
  }

  private schedule(): void {
    if (this.scheduled || this.busy) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.busy = this.slice().finally(() => {
        this.busy = null;
        if (this.startable()) this.schedule();
      });
    });
  }

  /** Whether a host waits that has no turn running. */
  private startable(): boolean {
    for (const hostId of this.pending.keys()) if (!this.running.has(hostId)) return true;
    return false;
  }

  /**
   * Starts turns, oldest host first, until the slice is used up. A turn's engine work runs at
   * once; while it waits for its verdict to be committed (a group commit) the next host's turn
   * starts, so classification is not paced by commits. One turn per host at a time (a host's
   * later samples wait for the next), at most maxRunning turns waiting at once.
   */
  private async slice(): Promise<void> {
    const until = performance.now() + this.opts.sliceMs;
    for (const [hostId, samples] of this.pending) {
      if (performance.now() >= until || this.running.size >= this.opts.maxRunning) return;
      if (this.running.has(hostId)) continue;
      this.pending.delete(hostId);
      this.turns++;
      this.running.add(hostId);
      const turn = this.run(hostId, samples)
        .catch((err: Error) => this.onError(hostId, err))
        .finally(() => {
          this.running.delete(hostId);
          if (this.pending.has(hostId)) this.schedule();
        });
      await Promise.race([turn, new Promise((r) => setImmediate(r))]);
    }
  }

  /** Resolves once nothing is waiting or running. */
  async idle(): Promise<void> {
    while (this.busy || this.scheduled || this.pending.size || this.running.size) {
      if (this.busy) await this.busy;
      else await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Drops what waits and resolves when the turn in progress ends (before the store closes). */
  async stop(): Promise<void> {
    this.pending.clear();
    await this.idle();
  }
}
