// Collector counters, exposed in Prometheus text format on /metrics.
export class CollectorMetrics {
  readonly rejects = new Map<string, number>();
  framesIn = 0;
  samplesStored = 0;
  samplesDuplicate = 0;
  connectedAgents = 0;

  reject(reason: string): void {
    this.rejects.set(reason, (this.rejects.get(reason) ?? 0) + 1);
  }
}
