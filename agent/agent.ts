// The agent daemon: sample on an interval → spool → link to the collector.
import { hostname } from 'node:os';
import { encodeSample, type IInventory } from '../proto/codec.js';
import { packageVersion } from '../proto/package-info.js';
import { loadOrCreateIdentity } from './identity.js';
import { silentAgentLogger, type AgentLogger } from './log.js';
import { Link, defaultLinkTiming, type LinkOptions } from './link.js';
import { anchorMaps } from './map-anchors.js';
import { collectInventory } from './probes/inventory.js';
import { createProbes } from './probes/index.js';
import { defaultProbeConfig, type ProbeConfig } from './probes/probe.js';
import { Sampler } from './sampler.js';
import { SentSignatures } from './signature-refs.js';
import { Spool, defaultSpoolLimits, type SpoolLimits } from './spool.js';

export interface AgentOptions {
  collectorUrl: string;
  intervalMs: number;
  batchIntervalMs?: number;
  stateDir: string;
  probeConfig?: Partial<ProbeConfig>;
  /** Spool bounds (unsent samples, their age); defaults: 7 days at 1 Hz. */
  spoolLimits?: Partial<SpoolLimits>;
  /** Collector enrollment secret, needed for the first connection to a collector. */
  enrollSecret?: string;
  /** Extra WebSocket options (TLS: `ca`). */
  wsOptions?: LinkOptions['wsOptions'];
  /** Pinned collector certificate fingerprint (`sha256:…`). */
  pin?: string;
  /** Allow plain ws:// to a non-loopback collector (samples and keys' proofs travel unencrypted). */
  allowPlain?: boolean;
  logger?: AgentLogger;
}

export interface RunningAgent {
  agentId: string;
  /** Samples taken since start. */
  readonly sampled: number;
  readonly spool: Spool;
  readonly link: Link;
  /** Signatures sent in full since the link last went down (repeats go by reference). */
  readonly sentSignatures: SentSignatures;
  stop(): Promise<void>;
}

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const logger = opts.logger ?? silentAgentLogger();
  anchorMaps();
  const target = new URL(opts.collectorUrl);
  if (target.protocol === 'ws:' && !/^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/i.test(target.hostname) && !opts.allowPlain) {
    throw new Error(`refusing plain ws:// to ${target.hostname}: use wss:// (with --pin or --ca for a self-signed collector), or --allow-plain`);
  }
  const identity = loadOrCreateIdentity(opts.stateDir);
  const { agentId } = identity;
  // Repeated process signatures go as references (signature-refs.ts), only while streaming.
  const sentSignatures = new SentSignatures();
  const probeConfig: ProbeConfig = { ...defaultProbeConfig, ...opts.probeConfig, sentSignatures };
  const spool = new Spool(opts.stateDir, { ...defaultSpoolLimits, ...opts.spoolLimits });
  const sampler = new Sampler(createProbes(probeConfig));
  const startedMs = Date.now();
  let inventory: IInventory = {};
  try {
    inventory = await collectInventory(probeConfig);
  } catch (err) {
    logger.warn({ reason: 'inventory_failed', err: (err as Error).message }, 'inventory unavailable');
  }
  const link = new Link({
    ...defaultLinkTiming,
    ...(opts.batchIntervalMs !== undefined ? { batchIntervalMs: opts.batchIntervalMs } : {}),
    url: opts.collectorUrl,
    identity,
    ...(opts.enrollSecret ? { enrollSecret: opts.enrollSecret } : {}),
    ...(opts.wsOptions ? { wsOptions: opts.wsOptions } : {}),
    ...(opts.pin ? { pin: opts.pin } : {}),
    spool,
    logger,
    hello: () => ({ hostname: hostname(), agentVersion: packageVersion(), inventory, intervalMs: opts.intervalMs, startedMs }),
  });

  let sampled = 0;
  let running = false;
  let stopped = false;
  let lastLost = 0;
  let seenClose = link.lastClose;
  const tick = async (): Promise<void> => {
    // A slow tick (a probe at its timeout) skips the next one instead of piling up.
    if (running || stopped) return;
    running = true;
    try {
      // A reference needs the collector to hold the full signature: while the link is down, or
      // once it closed, the next collector may not (another database), so signatures go in full.
      if (!link.connected || link.lastClose !== seenClose) {
        sentSignatures.clear();
        seenClose = link.lastClose;
      }
      const sample = await sampler.sample(Date.now());
      if (stopped) return;
      spool.push(sample.tsMs!, encodeSample(sample));
      sampled++;
      if (spool.lost !== lastLost) {
        logger.warn({ reason: 'spool_full', samples: spool.lost - lastLost }, 'spool full: oldest unsent samples thinned or dropped (recorded as a gap)');
        lastLost = spool.lost;
        sentSignatures.clear(); // the lost samples may have carried full signatures
      }
      link.poke();
    } catch (err) {
      logger.error({ reason: 'sample_failed', err: (err as Error).message }, 'sampling failed');
    } finally {
      running = false;
    }
  };
  // Align ticks to the interval grid so timestamps stay evenly spaced.
  let timer: NodeJS.Timeout;
  const schedule = (): void => {
    const delay = opts.intervalMs - (Date.now() % opts.intervalMs);
    timer = setTimeout(() => {
      void tick();
      if (!stopped) schedule();
    }, delay);
  };
  link.start();
  // Counter-based probes (CPU, disk, network, RAPL, processes) only record on their first call;
  // that reading is not worth sending.
  await sampler.sample(Date.now());
  schedule();
  logger.info({ agentId, collector: opts.collectorUrl, intervalMs: opts.intervalMs, stateDir: opts.stateDir }, 'agent started');

  return {
    agentId,
    get sampled() {
      return sampled;
    },
    spool,
    link,
    sentSignatures,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await link.stop();
      while (running) await new Promise((r) => setTimeout(r, 10));
      spool.close();
    },
  };
}
