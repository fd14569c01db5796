// Schema of the rules file (rules/default.yaml). The file holds every list, weight and threshold;
// this schema makes a typo or a wrong type fail at load time, naming the entry, instead of
// silently changing verdicts.
import { z } from 'zod';
import { WORKLOAD_CLASSES } from '../types.js';

/** Rules-file layout this build reads. A file with another `schema` is refused. */
export const RULES_SCHEMA = 1;

const scoredClass = z.enum(WORKLOAD_CLASSES);
const classWeights = z.partialRecord(scoredClass, z.number().min(-5).max(5));
const nonNegative = z.number().min(0);
const fraction = z.number().min(0).max(1);

export const SIGNATURE_KINDS = ['name', 'cmdline', 'lib', 'env', 'cgroup', 'exe-marker'] as const;
export const MATCH_MODES = ['exact', 'prefix', 'substring', 'glob', 'regex'] as const;

const signatureList = z
  .strictObject({
    description: z.string().min(1),
    kind: z.enum(SIGNATURE_KINDS),
    match: z.enum(MATCH_MODES),
    caseSensitive: z.boolean().default(false),
    supports: z.array(scoredClass).min(1),
    weight: z.number().min(0).max(5),
    against: z.partialRecord(scoredClass, nonNegative).default({}),
    source: z.string().min(1),
    values: z.array(z.string().min(1)).min(1),
  })
  .superRefine((list, ctx) => {
    // Regexes are compiled here once so that a bad one is reported by entry, not at match time.
    if (list.match !== 'regex') return;
    list.values.forEach((value, i) => {
      try {
        new RegExp(value, list.caseSensitive ? '' : 'i');
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['values', i], message: `invalid regex ${JSON.stringify(value)}: ${(err as Error).message}` });
      }
    });
  });

const portEntry = z.strictObject({
  port: z.number().int().min(1).max(65535),
  collides: z.array(scoredClass).default([]),
  note: z.string().optional(),
});

const portList = z.strictObject({
  description: z.string().min(1),
  supports: z.array(scoredClass).min(1),
  side: z.enum(['listen', 'remote', 'any']),
  weight: z.number().min(0).max(5),
  source: z.string().min(1),
  entries: z.array(portEntry).min(1),
});

const behaviourRule = z.strictObject({
  description: z.string().min(1),
  weights: classWeights,
  requiresIdentity: z.boolean().default(false),
  /** Identity signals (e.g. sig.miner-exe-markers) or other behaviour (beh.<id>) whose presence voids this behaviour's counter-evidence. */
  voidedBy: z.array(z.string().min(1)).default([]),
  source: z.string().min(1),
});

/** Behaviour predicates the engine knows how to compute (classify-behaviour.ts). */
export const BEHAVIOUR_IDS = [
  'cpu-flat',
  'cpu-steady-averaged',
  'cpu-contended',
  'hugepages',
  'few-long-lived-peers',
  'no-peers',
  'low-io',
  'hash-memory',
  'many-clients',
  'blocks-often',
  'faults-often',
  'periodic-writes',
  'write-bound',
  'many-peers',
  'serves-clients',
  'bursty',
  'sustained',
  'step-periodic',
  'checkpoint-bursts',
  'checkpoint-writes',
  'chain-slot-period',
  'heavy-writes',
  'periodic-reads',
  'large-memory',
  'recurrent-bursts',
  'gpu-flat-saturated',
  'gpu-step-periodic',
  'gpu-memory-heavy',
] as const;
export type BehaviourId = (typeof BEHAVIOUR_IDS)[number];

const behaviour = z.strictObject(
  Object.fromEntries(BEHAVIOUR_IDS.map((id) => [id, behaviourRule])) as Record<BehaviourId, typeof behaviourRule>,
);

const chainPeriod = z.strictObject({
  name: z.string().min(1),
  ms: z.number().positive(),
  toleranceMs: nonNegative,
  source: z.string().min(1),
});

const thresholds = z.strictObject({
  window: z.strictObject({ minSamples: z.number().int().min(1), defaultIntervalMs: z.number().positive() }),
  idle: z.strictObject({ hostCpuPct: nonNegative, gpuUtilPct: nonNegative }),
  busy: z.strictObject({ processCpuPct: nonNegative, minSamplesPresent: z.number().int().min(2), dutyRelToP95: fraction }),
  flat: z.strictObject({ maxCv: nonNegative, bandRel: nonNegative, bandAbsPct: nonNegative, minFlatness: fraction, minSamplesPresent: z.number().int().min(2), averagedBucketMs: z.number().positive(), averagedMinMs: nonNegative, contendedHostPct: z.number().min(50).max(100) }),
  period: z.strictObject({ minStrength: fraction, minCycles: z.number().min(1), slotMinCycles: z.number().min(1), minLagSamples: z.number().int().min(2), noiseSigmas: nonNegative, minActivePct: nonNegative }),
  steps: z.strictObject({ minMs: nonNegative, maxMs: nonNegative }),
  bursty: z.strictObject({ minCv: nonNegative, maxDutyCycle: fraction }),
  sustained: z.strictObject({ minDutyCycle: fraction }),
  peers: z.strictObject({
    fewMax: z.number().int().min(1),
    manyMin: z.number().int().min(1),
    manyMinOutbound: z.number().int().min(0),
    /** Established inbound client connections at once that make a listening process a server. */
    serverMinClients: z.number().int().min(1),
    /** Connections from a local port below this to a remote port at or above it were accepted (inbound). */
    ephemeralPortMin: z.number().int().min(1).max(65535),
    longLivedFraction: fraction,
  }),
  io: z.strictObject({
    /** low-io: bytes read+written per CPU-second below this. */
    lowBytesPerCpuSec: nonNegative,
    periodicWriteMinBytesPerSec: nonNegative,
    periodicWriteMaxDuty: fraction,
    writeBoundBytesPerCpuSec: nonNegative,
    /** heavy-writes: writes at least this many times the reads (storage or rchar). */
    sealWriteReadRatio: nonNegative,
    heavyWriteBytesPerSec: nonNegative,
    /** CPU (% of one core) the writing process must also burn: sealing is compute-bound, a database is not. */
    heavyWriteMinCpuPct: nonNegative,
    /** heavy-writes without the read ratio, for a process with no network at all: at most this much written per CPU-second (data movers write far more). */
    heavyWriteMaxBytesPerCpuSec: nonNegative,
    /** checkpoint-writes: storage-write bursts of one repeated size (stats.repeatedBurstSize). */
    checkpointMinBytes: nonNegative,
    checkpointMinBursts: z.number().int().min(2),
    checkpointMinQuietShare: fraction,
    checkpointSizeTolerance: z.number().min(0).max(0.5),
    checkpointMaxMultiple: z.number().int().min(1),
    burstRatio: z.number().min(1),
    minBurstBytesPerSec: nonNegative,
    periodicReadMinBytesPerSec: nonNegative,
  }),
  memory: z.strictObject({ largeRssBytes: nonNegative, hashWorkingSetBytes: nonNegative, hashWorkingSetMaxBytes: nonNegative }),
  /** Extended per-process counters (Process.extended). */
  ext: z.strictObject({ blockingCtxswPerCpuSec: nonNegative, faultsPerCpuSec: nonNegative }),
  gpu: z.strictObject({ saturatedUtilPct: nonNegative, flatMaxCv: nonNegative, lowPcieBytesPerSec: nonNegative, heavyMemShare: fraction }),
  chainPeriods: z.array(chainPeriod),
});

const horizon = z.strictObject({
  name: z.string().min(1),
  spanMs: z.number().positive(),
  bucketMs: z.number().positive(),
  minCycles: z.number().min(1),
});

/** Hysteresis of published verdicts (stabilize.ts). */
const stability = z.strictObject({
  confirmMs: nonNegative,
  lookbackMs: z.number().positive(),
  switchShare: z.number().gt(0.5).max(1),
  /** Until coldMs after the first verdict, while nothing but the first class was published, a challenger needs only coldConfirmMs. */
  coldConfirmMs: nonNegative,
  coldMs: nonNegative,
  source: z.string().min(1),
});

export const rulesSchema = z.strictObject({
  schema: z.literal(RULES_SCHEMA),
  version: z.string().regex(/^\d{4}\.\d{1,2}\.\d+$/, 'expected a version like "2026.11.1"'),
  signatures: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'list ids are lower-case words joined by -'), signatureList),
  ports: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'list ids are lower-case words joined by -'), portList),
  behaviour,
  thresholds,
  history: z.strictObject({ horizons: z.array(horizon).max(6), source: z.string().min(1) }),
  stability,
  scoring: z.strictObject({
    minProcessScore: fraction,
    /** Identity evidence per class (names, cmdline, libs, env, cgroup, exe markers, ports) is clamped to +-identityCap. */
    identityCap: nonNegative,
    /** Behaviour weight a class needs on its own before it can be assigned (`default` for the rest). */
    behaviourFloor: z.partialRecord(z.enum([...WORKLOAD_CLASSES, 'default']), nonNegative).refine((r) => 'default' in r, 'needs a `default` entry'),
    /** Score of a class whose behaviour is below its floor is capped here (< minProcessScore). */
    belowFloorCap: fraction,
    identityGate: nonNegative,
    portBacking: nonNegative,
    collidingPortFactor: fraction,
  }),
  composition: z.strictObject({
    significantShare: fraction,
    minPartShare: fraction,
    cpuWatts: z.number().positive(),
    gpuWatts: z.number().positive(),
    dormantPenalty: fraction,
    recentShareMs: z.number().positive(),
  }),
  confidence: z.strictObject({
    maxEvidence: z.number().int().min(1),
    maxEvidencePerProcess: z.number().int().min(1),
    unavailablePenalty: z.record(z.string(), fraction).refine((r) => 'default' in r, 'needs a `default` entry'),
  }),
});

/** The validated rules, as the engine consumes them (plain data, safe to share and serialise). */
export type Rules = z.output<typeof rulesSchema>;
export type SignatureList = Rules['signatures'][string];
export type PortList = Rules['ports'][string];
export type BehaviourRule = Rules['behaviour'][BehaviourId];
export type StabilityRules = Rules['stability'];
