// Identity evidence: what a process IS (names, command line, mapped libraries, environment
// names, cgroup) from the rules' signature lists, and ports attributed to it.
import { evidence, list, type ScoredEvidence } from './classify-evidence.js';
import type { ProcessFeatures } from './feature-types.js';
import { matchList } from './match.js';
import type { Rules, SignatureList } from './rules/schema.js';
import type { EvidenceProcess, ScoredClass } from './types.js';

const VERB: Record<SignatureList['kind'], string> = {
  name: 'is named',
  cmdline: 'command line contains',
  lib: 'maps',
  env: 'has environment variable',
  cgroup: 'runs in cgroup matching',
  'exe-marker': 'executable contains marker',
};

/** Identity evidence without the process it names (the memo's entries). */
type Unowned = Omit<ScoredEvidence, 'process'>;

/**
 * Identity evidence by content: what identityEvidence finds depends only on a process's name, its
 * signature and the rules (the pid only labels the evidence), and the same processes run on many
 * hosts and stay in a window across evaluations, so matching every signature list against every
 * process at every evaluation was a sixth of the collector's CPU. Entries are keyed by the name
 * and every signature field the lists read, exactly (JSON of them: nothing else can collide), and
 * belong to one rules object (a reload clears them). Bounded: at most maxEntries entries and
 * maxKeyChars characters of keys, the least recently used dropped first. A memo changes no
 * result: evaluate with one and without one give equal verdicts (test/engine/identity-memo.test.ts).
 * Owned by its caller (the collector's Classifier); the engine keeps no state of its own.
 */
export class IdentityMemo {
  private rules: Rules | null = null;
  private readonly entries = new Map<string, readonly Unowned[]>();
  private keyChars = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly maxEntries = 20_000,
    readonly maxKeyChars = 16 * 1024 * 1024,
  ) {
    if (!(maxEntries >= 1) || !(maxKeyChars >= 1)) throw new Error('identity memo: maxEntries and maxKeyChars must be >= 1');
  }

  /** Entries held now. */
  get size(): number {
    return this.entries.size;
  }

  /** The evidence for `p`, from the memo or found and remembered. */
  evidence(p: ProcessFeatures, rules: Rules): ScoredEvidence[] {
    if (rules !== this.rules) {
      this.entries.clear();
      this.keyChars = 0;
      this.rules = rules;
    }
    const s = p.signature;
    const key = JSON.stringify(s ? [p.name, s.cmdline, s.exe, s.libs, s.envNames, s.cgroup, s.exeMarkers] : [p.name]);
    const who: EvidenceProcess = { pid: p.pid, name: p.name };
    const known = this.entries.get(key);
    if (known) {
      this.hits++;
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, known);
      return known.map((e) => ({ ...e, process: who }));
    }
    this.misses++;
    const found = findIdentityEvidence(p, rules, who);
    if (key.length <= this.maxKeyChars) {
      this.entries.set(key, found.map(({ process: _process, ...rest }) => rest));
      this.keyChars += key.length;
      for (const k of this.entries.keys()) {
        if (this.entries.size <= this.maxEntries && this.keyChars <= this.maxKeyChars) break;
        this.entries.delete(k);
        this.keyChars -= k.length;
      }
    }
    return found;
  }
}

/** What a process IS by the rules' signature lists (memo: optional, the same result with or without it). */
export function identityEvidence(p: ProcessFeatures, rules: Rules, memo?: IdentityMemo): ScoredEvidence[] {
  return memo ? memo.evidence(p, rules) : findIdentityEvidence(p, rules, { pid: p.pid, name: p.name });
}

function findIdentityEvidence(p: ProcessFeatures, rules: Rules, who: EvidenceProcess): ScoredEvidence[] {
  const out: ScoredEvidence[] = [];
  for (const id of Object.keys(rules.signatures).sort()) {
    const sig = rules.signatures[id];
    if (!sig) continue;
    const hits = matchList(sig, p);
    if (hits.length === 0) continue;
    const origin = sig.kind === 'name' ? 'name' : 'identity';
    const seen = `${VERB[sig.kind]} ${list(hits.map((h) => JSON.stringify(h)))}`;
    for (const c of sig.supports) {
      out.push(evidence(origin, `sig.${id}`, list(hits), c, sig.weight, `${seen}: ${sig.description}`, who));
    }
    for (const [c, w] of Object.entries(sig.against) as [ScoredClass, number][]) {
      if (w > 0) out.push(evidence(origin, `sig.${id}`, list(hits), c, -w, `${seen}: ${sig.description}, which counts against ${c}`, who));
    }
  }
  return out;
}

/** Positive weight per class from evidence other than names and ports (what ports must stand next to). */
export function substantive(ev: readonly ScoredEvidence[]): Map<ScoredClass, number> {
  const out = new Map<ScoredClass, number>();
  for (const e of ev) if (e.weight > 0 && (e.origin === 'identity' || e.origin === 'behaviour')) out.set(e.supports, (out.get(e.supports) ?? 0) + e.weight);
  return out;
}

/**
 * Port evidence. Most stratum ports are also validator, storage or AI defaults, so a port counts
 * only when (a) the socket belongs to this process, (b) the process already has substantive
 * evidence for the class worth scoring.portBacking, (c) it has none for a class the port collides with; and a port that
 * collides with anything counts at collidingPortFactor.
 */
export function portEvidence(p: ProcessFeatures, rules: Rules, prior: readonly ScoredEvidence[]): ScoredEvidence[] {
  const out: ScoredEvidence[] = [];
  const backed = substantive(prior);
  const who: EvidenceProcess = { pid: p.pid, name: p.name };
  const listen = new Set(p.sockets.listenPorts);
  const remote = new Set(p.sockets.remotePorts);
  for (const id of Object.keys(rules.ports).sort()) {
    const ports = rules.ports[id];
    if (!ports) continue;
    for (const c of ports.supports) {
      if ((backed.get(c) ?? 0) < rules.scoring.portBacking) continue;
      const hits: number[] = [];
      let weight = 0;
      for (const entry of ports.entries) {
        const seen = (ports.side !== 'remote' && listen.has(entry.port)) || (ports.side !== 'listen' && remote.has(entry.port));
        if (!seen || entry.collides.some((k) => k !== c && (backed.get(k) ?? 0) > 0)) continue;
        hits.push(entry.port);
        weight = Math.max(weight, entry.collides.length > 0 ? ports.weight * rules.scoring.collidingPortFactor : ports.weight);
      }
      if (hits.length === 0 || weight <= 0) continue;
      const side = ports.side === 'listen' ? 'listens on' : ports.side === 'remote' ? 'connects to' : 'uses';
      out.push(evidence('port', `port.${id}`, list(hits), c, weight, `${side} port ${list(hits)}: ${ports.description}`, who));
    }
  }
  return out;
}
