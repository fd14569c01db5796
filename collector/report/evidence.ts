// The evidence behind each non-trivial span of the timeline (anything but idle): the verdict of
// that span with the highest confidence, its strongest evidence and the processes it names.
import type { TimelineSpan, EvidenceEntry } from './types.js';
import type { VerdictInterval } from './timeline.js';

const EVIDENCE_PER_VERDICT = 8;
const MAX_ENTRIES = 100;

export function evidenceFor(spans: readonly TimelineSpan[], intervals: readonly VerdictInterval[]): EvidenceEntry[] {
  const out: EvidenceEntry[] = [];
  for (const s of spans) {
    if (s.class === 'idle') continue;
    let best: VerdictInterval | null = null;
    for (const iv of intervals) {
      if (iv.fromMs < s.fromMs || iv.toMs > s.toMs || iv.verdict.class !== s.class) continue;
      if (!best || iv.verdict.confidence > best.verdict.confidence) best = iv;
    }
    if (!best) continue;
    const v = best.verdict;
    out.push({
      fromMs: s.fromMs,
      toMs: s.toMs,
      class: s.class,
      confidence: v.confidence,
      verdictTsMs: best.tsMs,
      evidence: [...v.evidence].sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || a.signal.localeCompare(b.signal)).slice(0, EVIDENCE_PER_VERDICT),
      parts: v.parts.map((p) => ({ class: p.class, share: p.share, processes: p.processes })),
    });
  }
  // Keep the longest spans when there are very many; show them in time order.
  return out
    .sort((a, b) => b.toMs - b.fromMs - (a.toMs - a.fromMs) || a.fromMs - b.fromMs)
    .slice(0, MAX_ENTRIES)
    .sort((a, b) => a.fromMs - b.fromMs);
}
