// classify(features, rules) -> Verdict. Pure and deterministic: the same features and rules give
// the same verdict, evidence order included.
import type { ScoredEvidence } from './classify-evidence.js';
import { assessProcess } from './classify-process.js';
import type { IdentityMemo } from './classify-identity.js';
import { decide, emptyVerdict, shares, type Weighted } from './compose.js';
import type { HostFeatures } from './feature-types.js';
import type { Rules } from './rules/schema.js';
import type { Evidence, Verdict } from './types.js';
import { round } from './classify-evidence.js';

/** Public evidence: drops the internal origin tag. */
function publicEvidence(e: ScoredEvidence): Evidence {
  const { origin: _origin, ...rest } = e;
  return rest;
}

/**
 * A list that supports several classes (AI libraries: training and inference) yields one record
 * per class; a reader needs only the one for the class the process was given.
 */
function relevant(w: Weighted): ScoredEvidence[] {
  const keep = new Set<string>();
  const positive = new Set<string>();
  for (const e of w.a.evidence) {
    if (e.weight > 0 && e.supports === w.a.assigned) keep.add(e.signal);
    if (e.weight > 0) positive.add(e.supports);
  }
  return w.a.evidence.filter((e) =>
    // Counter-evidence against a class nothing spoke for changes no score: leave it out.
    e.weight < 0 ? positive.has(e.supports) : !keep.has(e.signal) || e.supports === w.a.assigned,
  );
}

/** The assigned class's support first (strongest first), then the rest by magnitude. */
function byRelevance(assigned: string): (a: ScoredEvidence, b: ScoredEvidence) => number {
  const rank = (e: ScoredEvidence): number => (e.supports === assigned && e.weight > 0 ? 0 : 1);
  return (a, b) =>
    rank(a) - rank(b) ||
    Math.abs(b.weight) - Math.abs(a.weight) ||
    (a.signal < b.signal ? -1 : a.signal > b.signal ? 1 : 0) ||
    (a.supports < b.supports ? -1 : a.supports > b.supports ? 1 : 0);
}

interface Block {
  share: number;
  pid: number;
  entries: Evidence[];
}

/** A process's evidence: its share first, then what it showed. */
function processBlock(w: Weighted, rules: Rules): Block {
  const p = w.a.features;
  const top = w.a.assigned === 'general' ? w.a.generalScore : w.a.scores[w.a.assigned];
  const entries: Evidence[] = [
    {
      signal: 'proc.share',
      value: round(w.share),
      supports: w.a.assigned,
      weight: 0,
      detail: `${p.name || '?'} (pid ${p.pid}) holds ${round(w.share * 100, 1)}% of the host's busy CPU/GPU and scores ${w.a.assigned} ${round(top, 2)}`,
      process: { pid: p.pid, name: p.name },
    },
  ];
  const own = relevant(w).sort(byRelevance(w.a.assigned));
  for (const e of own.slice(0, rules.confidence.maxEvidencePerProcess)) entries.push(publicEvidence(e));
  return { share: w.share, pid: p.pid, entries };
}

/**
 * Many small processes (a build's cc1 swarm) each fall below minPartShare; together they can be
 * most of the host, so they are summarised by name.
 */
function groupBlocks(rest: readonly Weighted[], rules: Rules): Block[] {
  const groups = new Map<string, Weighted[]>();
  for (const w of rest) {
    const name = w.a.features.name || '?';
    const g = groups.get(name) ?? [];
    g.push(w);
    groups.set(name, g);
  }
  const out: Block[] = [];
  for (const [name, members] of groups) {
    const share = members.reduce((s, w) => s + w.share, 0);
    if (share < rules.composition.minPartShare) continue;
    const pid = Math.min(...members.map((w) => w.a.features.pid));
    const cls = members.every((w) => w.a.assigned === members[0]?.a.assigned) ? (members[0]?.a.assigned ?? 'general') : 'general';
    out.push({
      share,
      pid,
      entries: [
        {
          signal: 'proc.group',
          value: members.length,
          supports: cls,
          weight: 0,
          detail: `${members.length} "${name}" processes (each small or short-lived) hold ${round(share * 100, 1)}% of the host's busy CPU/GPU together`,
          process: { pid, name },
        },
      ],
    });
  }
  return out;
}

function evidenceFor(weighted: readonly Weighted[], rules: Rules): Evidence[] {
  const min = rules.composition.minPartShare;
  const looksSpecialised = (w: Weighted): boolean => w.a.assigned !== 'general' || w.a.evidence.some((e) => e.weight > 0 && e.supports !== 'general' && e.origin !== 'behaviour');
  const big = weighted.filter((w) => w.share >= min);
  // Small processes matter one by one only when they look like something (a parked miner).
  const dormant = weighted.filter((w) => w.share < min && looksSpecialised(w));
  const rest = weighted.filter((w) => w.share < min && !looksSpecialised(w));
  const order = (x: Block, y: Block): number => y.share - x.share || x.pid - y.pid;
  const blocks = [...big.map((w) => processBlock(w, rules)), ...groupBlocks(rest, rules)].sort(order);
  const tail = dormant.map((w) => processBlock(w, rules)).sort(order);
  return [...blocks, ...tail].flatMap((b) => b.entries);
}

/** `memo`: identity evidence remembered by content across calls (classify-identity.ts); the verdict is the same without it. */
export function classify(h: HostFeatures, rules: Rules, memo?: IdentityMemo): Verdict {
  if (h.window.samples === 0) return emptyVerdict(rules, h.unavailable.length > 0 ? h.unavailable : ['samples']);
  const weighted = shares(
    h,
    h.processes.map((p) => assessProcess(p, h, rules, memo)),
    rules,
  );
  const d = decide(h, weighted, rules);
  const evidence = [...d.hostEvidence, ...evidenceFor(weighted, rules)].slice(0, rules.confidence.maxEvidence);
  return {
    class: d.class,
    confidence: d.confidence,
    scores: d.scores,
    parts: d.parts,
    evidence,
    window: { fromMs: h.window.fromMs, toMs: h.window.toMs, samples: h.window.samples },
    unavailable: h.unavailable,
    rulesVersion: rules.version,
  };
}
