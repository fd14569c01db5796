// Prometheus text exposition of collector health and each host's current class.
import { CLASSES } from './engine/types.js';
import type { CollectorMetrics } from './metrics.js';
import type { FleetHost } from './fleet-state.js';
import type { LiveStats } from './live.js';
import type { WebhookCounters } from './webhook.js';

/** What the collector holds in memory, for the gauges below. */
export interface MemoryFigures {
  classifierHosts: number;
  classifierEvictions: { idle: number; cap: number };
  live: LiveStats;
}

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export interface MetricsExtra {
  /** Ids of hosts whose current verdict holds non-AI work (collector/non-ai.ts). */
  nonAi: ReadonlySet<string>;
  webhook?: WebhookCounters | null;
}

export function renderMetrics(m: CollectorMetrics, hosts: FleetHost[], nowMs: number, mem?: MemoryFigures, extra?: MetricsExtra): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, rows: Array<[string, number]>): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of rows) lines.push(`${name}${labels} ${v}`);
  };
  metric('assay_ingest_frames_total', 'counter', 'Agent frames received.', [['', m.framesIn]]);
  metric('assay_samples_stored_total', 'counter', 'Samples committed to the store.', [['', m.samplesStored]]);
  metric('assay_samples_duplicate_total', 'counter', 'Resent samples that were already stored.', [['', m.samplesDuplicate]]);
  metric('assay_signature_refs_unresolved_total', 'counter', 'Process signature references naming no stored signature (processes kept without one; the agent is asked to resend in full).', [['', m.signatureRefsUnresolved]]);
  metric('assay_ingest_rejects_total', 'counter', 'Agent connections closed for bad input, by reason.', [...m.rejects].map(([r, n]) => [`{reason="${esc(r)}"}`, n]));
  metric('assay_agents_connected', 'gauge', 'Agents connected now.', [['', m.connectedAgents]]);
  if (mem) {
    metric('assay_classifier_hosts', 'gauge', 'Hosts whose engine window is held in memory.', [['', mem.classifierHosts]]);
    metric('assay_classifier_evictions_total', 'counter', 'Hosts dropped from the classifier\'s memory, by cause.', Object.entries(mem.classifierEvictions).map(([r, n]) => [`{cause="${r}"}`, n]));
    metric('assay_live_clients', 'gauge', 'Dashboard /live sockets open now.', [['', mem.live.clients]]);
    metric('assay_live_skipped_total', 'counter', 'Pushes skipped because a dashboard had too much unsent (coalesced into its next one).', [['', mem.live.skipped]]);
    metric('assay_live_closed_slow_total', 'counter', 'Dashboards closed for staying over the unsent-bytes limit.', [['', mem.live.closedSlow]]);
  }
  if (m.groupCommit) {
    metric('assay_group_commits_total', 'counter', 'Synced store transactions that committed a group of writes.', [['', m.groupCommit.groups]]);
    metric('assay_group_commit_writes_total', 'counter', 'Writes (batches, hellos, verdicts) committed in groups.', [['', m.groupCommit.writes]]);
    metric('assay_group_commit_largest', 'gauge', 'Most writes one group commit held.', [['', m.groupCommit.largestGroup]]);
    metric('assay_group_commit_failures_total', 'counter', 'Group commits that failed (each of their writes refused).', [['', m.groupCommit.failedGroups]]);
  }
  if (m.chainReads) {
    metric('assay_store_batches_without_prior_total', 'counter', 'Chained stored batches left out of a read because the batch they decode against is gone (retention) or was never stored.', [['', m.chainReads.batchesWithoutPrior]]);
    metric('assay_store_samples_without_prior_total', 'counter', 'The samples of those batches.', [['', m.chainReads.samplesWithoutPrior]]);
  }
  if (m.classify) {
    metric('assay_classify_backlog_hosts', 'gauge', 'Hosts with stored samples waiting for classification.', [['', m.classify.backlogHosts()]]);
    metric('assay_classify_turns_total', 'counter', 'Classification turns (one per host per turn, batches merged).', [['', m.classify.turns()]]);
    metric('assay_classify_backlog_bytes', 'gauge', 'Payload bytes of committed batches waiting for classification.', [['', m.classify.backlogBytes()]]);
    metric('assay_classify_dropped_samples_total', 'counter', 'Samples not classified: dropped over the classify queue\'s byte bound (the collector could not keep up).', [['', m.classify.droppedSamples()]]);
    metric('assay_classify_samples_total', 'counter', 'Samples decoded and classified.', [['', m.classify.classifiedSamples()]]);
    metric('assay_classify_unreadable_batches_total', 'counter', 'Stored batches whose samples could not be decoded or failed the field checks at classification.', [['', m.classify.unreadableBatches()]]);
    metric('assay_classify_engine_seconds_total', 'counter', 'Event-loop time spent in engine evaluations (window decode, rules, hysteresis).', [['', m.classify.engineMs() / 1000]]);
    metric('assay_classify_throttled_total', 'counter', 'Times classification turns waited because engine work was over its share of the event loop (classify-queue.ts engineShare).', [['', m.classify.throttled()]]);
  }
  metric(
    'assay_host_class',
    'gauge',
    'Current verdict of each host: 1 for its class, 0 for the others.',
    hosts.flatMap((h) => CLASSES.map((c): [string, number] => [`{host="${esc(h.id)}",hostname="${esc(h.hostname)}",class="${c}"}`, h.class === c ? 1 : 0])),
  );
  metric('assay_host_confidence', 'gauge', 'Confidence of the current verdict (0..1).', hosts.map((h) => [`{host="${esc(h.id)}",hostname="${esc(h.hostname)}"}`, h.confidence ?? 0]));
  metric('assay_host_last_seen_seconds', 'gauge', 'Seconds since the host last sent data.', hosts.map((h) => [`{host="${esc(h.id)}",hostname="${esc(h.hostname)}"}`, Math.max(0, (nowMs - h.lastSeenMs) / 1000)]));
  const online = (h: FleetHost): boolean => h.online;
  const hl = (h: FleetHost): string => `host="${esc(h.id)}",hostname="${esc(h.hostname)}"`;
  metric('assay_host_online', 'gauge', 'The host sent data within the online window (1), or is offline/stale (0).', hosts.map((h) => [`{${hl(h)}}`, online(h) ? 1 : 0]));
  metric(
    'assay_host_non_ai',
    'gauge',
    'The host\'s current verdict holds non-AI work (PoW mining, chain validation, storage proving, or mixed with such a part): 1, else 0. Labelled with the class.',
    hosts.map((h) => [`{${hl(h)},class="${esc(h.class ?? 'pending')}"}`, extra?.nonAi.has(h.id) ? 1 : 0]),
  );
  // Hosts per class and state: online hosts count in their class, offline ones apart (state="offline").
  const counts = new Map<string, number>();
  for (const c of [...CLASSES, 'pending']) for (const st of ['online', 'offline']) counts.set(`${c}|${st}`, 0);
  for (const h of hosts) {
    const k = `${h.class ?? 'pending'}|${online(h) ? 'online' : 'offline'}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  metric('assay_hosts', 'gauge', 'Hosts per current class and state (online, offline).', [...counts].map(([k, n]) => {
    const [c, st] = k.split('|') as [string, string];
    return [`{class="${esc(c)}",state="${st}"}`, n];
  }));
  const w = extra?.webhook;
  if (w) {
    metric('assay_webhook_deliveries_total', 'counter', 'Webhook events by outcome: delivered, failed (given up after retries or refused with a 4xx), dropped (queue full or shutdown).', [
      ['{result="delivered"}', w.delivered],
      ['{result="failed"}', w.failed],
      ['{result="dropped"}', w.dropped],
    ]);
    metric('assay_webhook_failed_attempts_total', 'counter', 'Webhook delivery attempts that failed (network error, timeout or non-2xx answer); each may be retried.', [['', w.failedAttempts]]);
    metric('assay_webhook_queue_length', 'gauge', 'Webhook events waiting for delivery.', [['', w.queued()]]);
  }
  return lines.join('\n') + '\n';
}
