// What features(window) computes: plain numbers and series, no verdicts. Units are in the names.

export interface PeriodFeature {
  /** Period in samples (fractional). */
  samples: number;
  /** Period in milliseconds (samples x the window's sampling interval). */
  ms: number;
  /** Normalised autocorrelation at that lag, 0..1. */
  strength: number;
}

/** Shape of one series (CPU %, GPU util %, bytes/s). */
export interface SeriesFeatures {
  mean: number;
  p95: number;
  /** Coefficient of variation (std / mean); 0 for an all-zero series. */
  cv: number;
  /** Share of samples within the flat band around the median (see FeatureOptions). */
  flatness: number;
  /** Share of samples at or above max(dutyMinPct, dutyRelToP95 x p95). */
  dutyCycle: number;
  period: PeriodFeature | null;
  series: number[];
}

export interface GpuFeatures {
  /** uuid, or `index:N` when the agent reported none. */
  id: string;
  name: string;
  util: SeriesFeatures;
  memUtilPctMean: number;
  /** Mean of memUsed / memTotal, 0..1 (0 when the total is unknown). */
  memUsedShare: number;
  memTotalBytes: number;
  pcieRxBytesPerSec: number;
  pcieTxBytesPerSec: number;
  powerWattsMean: number | null;
}

export interface PeerFeature {
  address: string;
  port: number;
  loopback: boolean;
  /** For a loopback peer, the other pids on this host holding that port (its listener, the backends serving it), when attributed. */
  partnerPids: number[];
  /** Share of the process's socket-sampled lifetime during which the connection was seen, 0..1. */
  presence: number;
}

export interface ProcessSocketFeatures {
  listenPorts: number[];
  /** Outbound established connections (local port is not one the process listens on). */
  outboundPeers: PeerFeature[];
  /** Most inbound established connections (clients) seen in one sample. */
  inboundMax: number;
  /** Distinct non-loopback remote addresses, both directions. */
  remoteAddresses: number;
  /** Remote ports of outbound connections, sorted. */
  remotePorts: number[];
  /** Samples within the process's lifetime that carried socket data. */
  samplesWithSockets: number;
}

export interface ProcessSignatureFeatures {
  cmdline: string;
  exe: string;
  libs: string[];
  envNames: string[];
  cgroup: string;
  /** Ids ("<class>:<name>") of binary-content markers the agent found in the executable. */
  exeMarkers: string[];
}

/**
 * Extended per-process counters (agents from 2026-12, Process.extended). Means over the samples
 * that carried them; null for older agents, where they are unavailable (never read as 0).
 */
export interface ExtendedProcessFeatures {
  /** Samples that carried extended counters. */
  samples: number;
  /** Median minor page faults per second after the process's first samples (warm-up excluded); rates below are medians too. */
  minfltPerSec: number;
  majfltPerSec: number;
  voluntaryCtxswPerSec: number;
  nonvoluntaryCtxswPerSec: number;
  /** Most threads using >= 50 % of a core at once. */
  busyThreadsMax: number;
  hugetlbBytesMax: number;
  nice: number;
}

export interface ProcessFeatures {
  key: string;
  pid: number;
  name: string;
  startTimeTicks: number;
  /** Samples in which the process appeared. */
  samplesPresent: number;
  /** Index of the first and last sample showing it; its series cover this span (gaps = 0). */
  firstIndex: number;
  lastIndex: number;
  /** CPU in % of one core. */
  cpu: SeriesFeatures;
  /** CPU period from isolated spikes at regular intervals, found with only thresholds.period.slotMinCycles intervals (null when cpu.period exists, or none). */
  cpuFewCyclesPeriod: PeriodFeature | null;
  /** Share of all process CPU time in the window, 0..1. */
  cpuShare: number;
  /** The same over the most recent part of the window (FeatureOptions.recentShareMs): what the host does now. */
  cpuShareRecent: number;
  rssBytesMax: number;
  threadsMax: number;
  io: {
    readBytesPerSec: number;
    writeBytesPerSec: number;
    rcharPerSec: number;
    wcharPerSec: number;
    write: SeriesFeatures;
    read: SeriesFeatures;
    /** Per sample the larger of storage reads and read syscalls (rchar: page-cache hits included). */
    readAny: SeriesFeatures;
  };
  gpu: {
    /** Most GPU memory held at once (sum over GPUs). */
    memBytesMax: number;
    gpuIds: string[];
    /** Largest share of one GPU's memory it held, 0..1. */
    memShareOfGpu: number;
    /** Share of the host's busy GPU time attributed to it (by memory on each busy GPU), 0..1. */
    utilShare: number;
  };
  signature: ProcessSignatureFeatures | null;
  sockets: ProcessSocketFeatures;
  /**
   * Its socket list is known to be complete (maybe empty): the agent read its fds
   * (Process.socket_view READ) or mapped every process's sockets (Sample.socket_attribution
   * complete) in most samples showing it. Only then does "no socket" mean no network.
   */
  socketsKnown: boolean;
  /** Extended counters, or null when the agent did not send them (old traces). */
  ext: ExtendedProcessFeatures | null;
  /** Working memory, most seen at once: RssAnon + HugetlbPages (not in RSS) with the extended counters, else RSS. */
  memoryBytesMax: number;
  /** The same process over the long horizons (bucket means), when the caller keeps history. */
  history: ProcessHorizonFeatures[];
}

/** A process over one long horizon (features-history.ts). */
export interface ProcessHorizonFeatures {
  name: string;
  spanMs: number;
  bucketMs: number;
  /** Time the process was seen in this horizon. */
  presentMs: number;
  /** Shape of its per-bucket mean CPU (% of one core), from its first busy bucket on. */
  cpu: SeriesFeatures;
  read: SeriesFeatures;
  write: SeriesFeatures;
  rssBytesMax: number;
  threadsMax: number;
}

/** The host over one long horizon. */
export interface HorizonFeatures {
  name: string;
  spanMs: number;
  bucketMs: number;
  /** Time covered by samples (buckets that got any). */
  coveredMs: number;
  cpu: SeriesFeatures;
  gpuUtil: SeriesFeatures | null;
  diskRead: SeriesFeatures;
  diskWrite: SeriesFeatures;
}

export interface HostFeatures {
  window: { fromMs: number; toMs: number; samples: number; intervalMs: number };
  /** Logical cores (per-core readings or inventory); 0 when unknown. */
  cores: number;
  cpu: SeriesFeatures & {
    /** Mean over samples of 1 - CV(per-core %): 1 = all cores equally busy; null without per-core data. */
    evenness: number | null;
  };
  gpus: GpuFeatures[];
  /** Mean of per-GPU utilisation (0 without GPUs), with its own shape. */
  gpuUtil: SeriesFeatures | null;
  power: { raplWattsMean: number | null; gpuWattsMean: number | null };
  memory: { totalBytes: number; usedBytesMean: number; hugepagesTotal: number; hugepagesInUseMax: number };
  disk: { readBytesPerSec: number; writeBytesPerSec: number };
  net: { rxBytesPerSec: number; txBytesPerSec: number };
  sockets: {
    available: boolean;
    ownerAvailable: boolean;
    /** complete: every sample said so; partial: some samples or processes were read; unknown: old agent. */
    attribution: 'complete' | 'partial' | 'unknown';
    listenPorts: number[];
    remoteAddresses: number;
  };
  /** Processes sorted by CPU share (descending), then pid. */
  processes: ProcessFeatures[];
  /** The host over the long horizons (empty when the caller keeps no history). */
  history: HorizonFeatures[];
  /** Signals that could not be read in this window (derived, plus probes the agent reported). */
  unavailable: string[];
}
