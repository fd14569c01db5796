// Prometheus text exposition of collector health and each host's current class.
import { CLASSES } from './engine/types.js';
import type { CollectorMetrics } from './metrics.js';
import type { FleetHost } from './fleet-state.js';
import type { LiveStats } from './live.js';

/** What the collector holds in memory, for the gauges below. */
export interface MemoryFigures {
  classifierHosts: number;
  classifierEvictions: { idle: number; cap: number };
  live: LiveStats;
}

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export function renderMetrics(m: CollectorMetrics, hosts: FleetHost[], nowMs: number, mem?: MemoryFigures): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, rows: Array<[string, number]>): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of rows) lines.push(`${name}${labels} ${v}`);
  };
  metric('assay_ingest_frames_total', 'counter', 'Agent frames received.', [['', m.framesIn]]);
  metric('assay_samples_stored_total', 'counter', 'Samples committed to the store.', [['', m.samplesStored]]);
  metric('assay_samples_duplicate_total', 'counter', 'Resent samples that were already stored.', [['', m.samplesDuplicate]]);
  metric('assay_ingest_rejects_total', 'counter', 'Agent connections closed for bad input, by reason.', [...m.rejects].map(([r, n]) => [`{reason="${esc(r)}"}`, n]));
  metric('assay_agents_connected', 'gauge', 'Agents connected now.', [['', m.connectedAgents]]);
  if (mem) {
    metric('assay_classifier_hosts', 'gauge', 'Hosts whose engine window is held in memory.', [['', mem.classifierHosts]]);
    metric('assay_classifier_evictions_total', 'counter', 'Hosts dropped from the classifier\'s memory, by cause.', Object.entries(mem.classifierEvictions).map(([r, n]) => [`{cause="${r}"}`, n]));
    metric('assay_live_clients', 'gauge', 'Dashboard /live sockets open now.', [['', mem.live.clients]]);
    metric('assay_live_skipped_total', 'counter', 'Pushes skipped because a dashboard had too much unsent (coalesced into its next one).', [['', mem.live.skipped]]);
    metric('assay_live_closed_slow_total', 'counter', 'Dashboards closed for staying over the unsent-bytes limit.', [['', mem.live.closedSlow]]);
  }
  metric(
    'assay_host_class',
    'gauge',
    'Current verdict of each host: 1 for its class, 0 for the others.',
    hosts.flatMap((h) => CLASSES.map((c): [string, number] => [`{host="${esc(h.id)}",hostname="${esc(h.hostname)}",class="${c}"}`, h.class === c ? 1 : 0])),
  );
  metric('assay_host_confidence', 'gauge', 'Confidence of the current verdict (0..1).', hosts.map((h) => [`{host="${esc(h.id)}",hostname="${esc(h.hostname)}"}`, h.confidence ?? 0]));
  metric('assay_host_last_seen_seconds', 'gauge', 'Seconds since the host last sent data.', hosts.map((h) => [`{host="${esc(h.id)}",hostname="${esc(h.hostname)}"}`, Math.max(0, (nowMs - h.lastSeenMs) / 1000)]));
  return lines.join('\n') + '\n';
}
