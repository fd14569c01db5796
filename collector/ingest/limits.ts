// Every bound the ingest side of the collector enforces, with its default. The HTTP-level ones
// (idle and header timeouts) are applied in connection-limits.ts, the per-connection ones by the
// state table in states.ts, the per-address ones by the gates in gates.ts.

export interface IngestLimits {
  /** Largest frame an authenticated agent may send (`--max-frame-bytes`). */
  maxFrameBytes: number;
  /**
   * Largest frame accepted before the hello is authenticated. A hello is ~0.5 KiB plus ~80 bytes
   * per disk in its inventory; 64 KiB leaves room for storage hosts with hundreds of disks while
   * 32 stalled connections of one address hold at most 2 MiB.
   */
  preHelloMaxFrameBytes: number;
  maxBatchSamples: number;
  /** A connection that has not authenticated within this long is closed, then terminated. */
  helloTimeoutMs: number;
  /** After the collector sends a close frame, the socket is destroyed after this long. */
  closeGraceMs: number;
  /** A TCP connection that has not completed an HTTP request's headers within this long is destroyed. */
  idleTimeoutMs: number;
  /**
   * Most connections one remote address may hold that are not authenticated agent streams: HTTP
   * connections for their whole life (keep-alive included), /ingest ones until their hello.
   */
  maxPreAuthPerAddress: number;
  /** Most such connections from all addresses together. */
  maxPreAuthTotal: number;
  /** Most dashboard /live sockets at once (they leave the pre-auth count when they upgrade). */
  maxLiveClients: number;
  /** Most agents connected at once. */
  maxAgents: number;
  /** Samples per second one agent may send on average (token bucket), and the burst allowance. */
  rateSamplesPerSec: number;
  rateBurstSamples: number;
  /** Failed enrollment attempts one address may make per minute on average, and the burst. */
  enrollFailuresPerMin: number;
  enrollFailureBurst: number;
  /**
   * Largest accepted difference between an agent's clock and the collector's (its hello), and how
   * far ahead of the collector's clock a sample may lie. Spooled samples may be older: see maxSampleAgeMs.
   */
  maxClockSkewMs: number;
  /** Oldest sample accepted: the raw retention window (an older one would be deleted at once). */
  maxSampleAgeMs: number;
  /** Frames read ahead of the store per connection before the socket is paused (back-pressure). */
  maxPendingFrames: number;
}

export const defaultIngestLimits: IngestLimits = {
  maxFrameBytes: 4 * 1024 * 1024,
  preHelloMaxFrameBytes: 64 * 1024,
  maxBatchSamples: 1000,
  helloTimeoutMs: 10_000,
  closeGraceMs: 2_000,
  idleTimeoutMs: 10_000,
  maxPreAuthPerAddress: 32,
  maxPreAuthTotal: 1024,
  maxLiveClients: 256,
  maxAgents: 10_000,
  rateSamplesPerSec: 50,
  rateBurstSamples: 100_000,
  enrollFailuresPerMin: 10,
  enrollFailureBurst: 10,
  maxClockSkewMs: 5 * 60_000,
  maxSampleAgeMs: 35 * 24 * 3600_000,
  maxPendingFrames: 4,
};
