// Classification off the ingest path. Ingest hands over each committed batch's samples (cheap:
// a map insert) and acks at once; hosts are classified one at a time, in arrival order, in short
// slices between I/O phases, so an ack never waits behind the engine. A host that sends again
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
}

export const defaultClassifyQueue: ClassifyQueueOptions = { sliceMs: 10, maxSamplesPerHost: 600 };

export class ClassifyQueue {
  /** Hosts with samples waiting, oldest first (a Map keeps insertion order). */
  private readonly pending = new Map<string, ISample[]>();
  private scheduled = false;
  private busy: Promise<void> | null = null;
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
        if (this.pending.size) this.schedule();
      });
    });
  }

  private async slice(): Promise<void> {
    const until = performance.now() + this.opts.sliceMs;
    do {
      const next = this.pending.entries().next();
      if (next.done) return;
      const [hostId, samples] = next.value;
      this.pending.delete(hostId);
      this.turns++;
      try {
        await this.run(hostId, samples);
      } catch (err) {
        this.onError(hostId, err as Error);
      }
    } while (performance.now() < until);
  }

  /** Resolves once nothing is waiting or running. */
  async idle(): Promise<void> {
    while (this.busy || this.scheduled || this.pending.size) {
      if (this.busy) await this.busy;
      else await new Promise((r) => setImmediate(r));
    }
  }

  /** Drops what waits and resolves when the turn in progress ends (before the store closes). */
  async stop(): Promise<void> {
    this.pending.clear();
    await this.idle();
  }
}
