// Evidence as people read it: the one formatter behind the dashboard's host page and the HTML
// report, so the two say the same words about the same verdict. It has NO runtime imports (types
// only): the build copies its compiled form to dashboard/generated/evidence-text.js
// (proto/postbuild.mjs), which the browser loads as is.
//
// What each signal's value means (its unit, and the words a summary uses for it) is the SIGNALS
// table below, data rather than code; `satisfies` makes the build fail when the engine gains a
// behaviour that has no entry here.
import type { BehaviourId } from './engine/rules/schema.js';

/** The evidence fields this module reads (engine/types.ts Evidence, also as JSON from the API or a report). */
export interface EvidenceLike {
  signal: string;
  value: string | number | boolean;
  supports: string;
  weight: number;
  detail?: string;
  process?: { pid: number; name: string } | null;
}

export interface VerdictLike {
  class: string;
  evidence?: readonly EvidenceLike[] | null;
  parts?: ReadonlyArray<{ class: string; share: number; processes?: ReadonlyArray<{ pid: number; name: string }> }> | null;
}

/**
 * How a value is shown. pct: already 0..100; share: 0..1 shown as %; bytes; bytesPerSec;
 * perCpuSec (bytes per CPU-second); ms (a period or duration, shown in s); cv (coefficient of
 * variation, no unit); count (with `noun`); text (matched names, addresses: shown as they are);
 * port (a list of port numbers).
 */
export type Unit = 'pct' | 'share' | 'bytes' | 'bytesPerSec' | 'bytesPerCpuSec' | 'ms' | 'cv' | 'count' | 'text' | 'port';

export interface SignalLook {
  /** Short name of the signal for the table's Signal column. */
  label: string;
  unit: Unit;
  /** Unit word(s) after a count ("peers", "clients", "faults/CPU-s"). */
  noun?: string;
  /** Words the one-line summary uses; `{v}` is the formatted value. Omitted: not summarised. */
  phrase?: string;
  /** Order in the summary: lower first (default 1). Behaviour decides a class, so identity comes after it. */
  summaryRank?: number;
}

const BEHAVIOURS = {
  'beh.cpu-flat': { label: 'flat CPU', unit: 'cv', phrase: 'flat CPU (CV {v})' },
  'beh.cpu-steady-averaged': { label: 'steady averaged CPU', unit: 'cv', phrase: 'a capped steady CPU rate (CV {v})' },
  'beh.cpu-contended': { label: 'always runnable', unit: 'share', phrase: 'busy in {v} of samples on a saturated CPU' },
  'beh.hugepages': { label: 'huge pages', unit: 'count', noun: 'huge pages', phrase: '{v} in use' },
  'beh.few-long-lived-peers': { label: 'few long-lived peers', unit: 'text', phrase: 'long-lived connection to {v}' },
  'beh.no-peers': { label: 'no network', unit: 'count', noun: 'peers', phrase: 'no network at all' },
  'beh.low-io': { label: 'low I/O', unit: 'bytesPerCpuSec', phrase: 'almost no I/O ({v})' },
  'beh.hash-memory': { label: 'hash working set', unit: 'bytes', phrase: 'a {v} working set' },
  'beh.many-clients': { label: 'many clients', unit: 'count', noun: 'clients', phrase: 'serves {v}' },
  'beh.blocks-often': { label: 'blocks often', unit: 'count', noun: 'switches/CPU-s', phrase: 'blocks often ({v})' },
  'beh.faults-often': { label: 'faults often', unit: 'count', noun: 'faults/CPU-s', phrase: 'keeps faulting ({v})' },
  'beh.periodic-writes': { label: 'periodic writes', unit: 'ms', phrase: 'writes every {v}' },
  'beh.write-bound': { label: 'write-bound', unit: 'bytesPerCpuSec', phrase: 'writes {v}' },
  'beh.many-peers': { label: 'many peers', unit: 'count', noun: 'peers', phrase: '{v}' },
  'beh.serves-clients': { label: 'serves clients', unit: 'count', noun: 'clients', phrase: 'serves {v}' },
  'beh.bursty': { label: 'bursty', unit: 'cv', phrase: 'bursty (CV {v})' },
  'beh.sustained': { label: 'sustained', unit: 'share', phrase: 'busy {v} of the window' },
  'beh.step-periodic': { label: 'step-periodic CPU', unit: 'ms', phrase: 'CPU steps every {v}' },
  'beh.checkpoint-bursts': { label: 'checkpoint bursts', unit: 'bytesPerSec', phrase: 'checkpoint bursts of {v}' },
  'beh.checkpoint-writes': { label: 'checkpoint writes', unit: 'bytes', phrase: 'writes snapshots of {v}' },
  'beh.chain-slot-period': { label: 'chain slot period', unit: 'ms', phrase: 'works every {v} (a chain slot)' },
  'beh.heavy-writes': { label: 'heavy writes', unit: 'bytesPerSec', phrase: 'writes {v}' },
  'beh.periodic-reads': { label: 'periodic reads', unit: 'ms', phrase: 'reads every {v}' },
  'beh.large-memory': { label: 'large memory', unit: 'bytes', phrase: '{v} resident' },
  'beh.recurrent-bursts': { label: 'recurrent bursts', unit: 'ms', phrase: 'busy again every {v}' },
  'beh.gpu-flat-saturated': { label: 'GPU pinned', unit: 'pct', phrase: 'GPU pinned at {v}' },
  'beh.gpu-step-periodic': { label: 'step-periodic GPU', unit: 'ms', phrase: 'GPU steps every {v}' },
  'beh.gpu-memory-heavy': { label: 'GPU memory', unit: 'share', phrase: 'holds {v} of a GPU\'s memory' },
} as const satisfies Record<`beh.${BehaviourId}`, SignalLook>;

/** Every signal with a fixed id. Families (sig.<list>, port.<list>) are FAMILIES below. */
export const SIGNALS: Readonly<Record<string, SignalLook>> = {
  ...BEHAVIOURS,
  'host.quiet': { label: 'host CPU (quiet)', unit: 'pct', phrase: 'host CPU at {v}' },
  'host.load': { label: 'host CPU', unit: 'pct' },
  'proc.share': { label: 'share of busy CPU/GPU', unit: 'share' },
  'proc.group': { label: 'group of processes', unit: 'count', noun: 'processes' },
  'net.unknown': { label: 'network unknown', unit: 'text' },
};

/** Signal id prefixes and what their values are. */
export const FAMILIES: ReadonlyArray<{ prefix: string; look: SignalLook }> = [
  // The label is this prefix word plus the list's id ("pool domains", "port: stratum").
  { prefix: 'sig.', look: { label: '', unit: 'text', phrase: 'matches {v}', summaryRank: 2 } },
  { prefix: 'port.', look: { label: 'port: ', unit: 'port', phrase: 'port {v}', summaryRank: 3 } },
];

const UNKNOWN: SignalLook = { label: '', unit: 'text' };

export function signalLook(signal: string): SignalLook {
  const exact = SIGNALS[signal];
  if (exact) return exact;
  const fam = FAMILIES.find((f) => signal.startsWith(f.prefix));
  if (fam) return { ...fam.look, label: `${fam.look.label}${signal.slice(fam.prefix.length).replace(/-/g, ' ')}` };
  return { ...UNKNOWN, label: signal };
}

// --- numbers ---------------------------------------------------------------------------------

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

function trim(x: number, digits: number): string {
  return String(Number(x.toFixed(digits)));
}

/** 2.3 GiB, 512 KiB, 12 B (IEC units, like the rest of the dashboard and the engine's sentences). */
export function bytesText(n: number): string {
  let v = Math.abs(n);
  let i = 0;
  // 1000 MiB and up reads as GiB (0.98 GiB), so no figure has four digits.
  while (v >= 1000 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${n < 0 ? '-' : ''}${i === 0 ? Math.round(v) : trim(v, v >= 100 ? 0 : v < 1 ? 2 : 1)} ${BYTE_UNITS[i]}`;
}

/** 83 %, 0.4 %, 100 % (value already in percent). */
export function pctText(p: number): string {
  const a = Math.abs(p);
  return `${a >= 10 || a === 0 ? Math.round(p) : trim(p, 1)} %`;
}

function msText(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${trim(s, s < 10 ? 2 : 1)} s`;
  if (s < 7200) return `${trim(s / 60, 1)} min`;
  return `${trim(s / 3600, 1)} h`;
}

function countText(n: number): string {
  return Math.abs(n) >= 100 || Number.isInteger(n) ? String(Math.round(n)) : trim(n, 2);
}

/** A signal's value with its unit ("2.3 GiB", "83 %", "3.1 s", "1 peers" → "1 peer"). */
export function valueText(signal: string, value: string | number | boolean): string {
  const look = signalLook(signal);
  if (typeof value === 'boolean') return value ? 'yes' : signal === 'net.unknown' ? 'unknown' : 'no';
  if (typeof value !== 'number' || !Number.isFinite(value)) return String(value);
  switch (look.unit) {
    case 'pct':
      return pctText(value);
    case 'share':
      return pctText(value * 100);
    case 'bytes':
      return bytesText(value);
    case 'bytesPerSec':
      return `${bytesText(value)}/s`;
    case 'bytesPerCpuSec':
      return `${bytesText(value)}/CPU-s`;
    case 'ms':
      return msText(value);
    case 'cv':
      return trim(value, 3);
    case 'count': {
      const noun = look.noun ?? '';
      // "1 peers" reads badly: the singular drops a trailing s of the first word.
      const word = value === 1 && /^[a-z]+s\b/.test(noun) ? noun.replace(/^([a-z]+)s\b/, '$1') : noun;
      return noun ? `${countText(value)} ${word}` : countText(value);
    }
    case 'port':
    case 'text':
      return String(value);
  }
}

/** A weight as a signed contribution: +0.50, −0.30. */
export function weightText(w: number): string {
  if (!Number.isFinite(w) || w === 0) return '0';
  return `${w > 0 ? '+' : '−'}${Math.abs(w).toFixed(2)}`;
}

// --- the view ----------------------------------------------------------------------------------

export type RowRole = 'supports' | 'against' | 'outweighed' | 'context';

export interface EvidenceRow {
  signal: string;
  label: string;
  value: string;
  supports: string;
  weight: number;
  weightText: string;
  detail: string;
  role: RowRole;
  /** Why a row that pushed towards a class did not decide it ("outweighed by General …"); null otherwise. */
  note: string | null;
}

export interface EvidenceGroup {
  /** null: host-wide evidence. */
  process: { pid: number; name: string } | null;
  /** The class the engine gave this process (its proc.share/proc.group entry), else null. */
  ownClass: string | null;
  /** Its share of the host's busy CPU/GPU (0..1), when the engine gave one. */
  share: number | null;
  /** Its size in processes (proc.group), 1 otherwise. */
  members: number;
  rows: EvidenceRow[];
}

export interface EvidenceView {
  summary: string;
  groups: EvidenceGroup[];
}

type Labels = Readonly<Record<string, string>>;

const label = (labels: Labels, cls: string | null | undefined): string => (cls ? (labels[cls] ?? cls) : 'no class');

function procKey(p: { pid: number; name: string } | null | undefined): string {
  return p ? `${p.pid}:${p.name}` : 'host';
}

/**
 * Groups the verdict's evidence by process, orders each group's rows by absolute contribution
 * (|weight|: the engine's weight already is the signal's contribution to the class score) and the
 * groups by their process's share of the host, marks rows that pushed towards a class that lost,
 * and writes the one-line summary.
 */
export function viewEvidence(v: VerdictLike, labels: Labels): EvidenceView {
  const evidence = Array.isArray(v.evidence) ? v.evidence : [];
  const partClasses = new Set((v.parts ?? []).map((p) => p.class));
  const groups = new Map<string, EvidenceGroup>();
  for (const e of evidence) {
    const k = procKey(e.process);
    let g = groups.get(k);
    if (!g) {
      g = { process: e.process ? { pid: e.process.pid, name: e.process.name } : null, ownClass: null, share: null, members: 1, rows: [] };
      groups.set(k, g);
    }
    if (e.signal === 'proc.share' || e.signal === 'proc.group') {
      g.ownClass = e.supports;
      if (e.signal === 'proc.share' && typeof e.value === 'number') g.share = e.value;
      if (e.signal === 'proc.group' && typeof e.value === 'number') g.members = e.value;
    }
  }
  // A process's share and class head its group; they are not a row of their own.
  for (const e of evidence) {
    if (e.signal === 'proc.share' || e.signal === 'proc.group') continue;
    const g = groups.get(procKey(e.process))!;
    g.rows.push(row(e, g, v.class, partClasses, labels));
  }
  for (const g of groups.values()) {
    g.rows.sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || roleRank(a.role) - roleRank(b.role) || (a.signal < b.signal ? -1 : a.signal > b.signal ? 1 : 0));
  }
  const contribution = (g: EvidenceGroup): number => g.rows.reduce((s, r) => s + Math.abs(r.weight), 0);
  const ordered = [...groups.values()].sort(
    (a, b) =>
      Number(b.process === null) - Number(a.process === null) ||
      (b.share ?? -1) - (a.share ?? -1) ||
      contribution(b) - contribution(a) ||
      (a.process?.pid ?? 0) - (b.process?.pid ?? 0),
  );
  return { summary: summarize(v, ordered, labels), groups: ordered };
}

function roleRank(r: RowRole): number {
  return r === 'supports' ? 0 : r === 'against' ? 1 : r === 'outweighed' ? 2 : 3;
}

function row(e: EvidenceLike, g: EvidenceGroup, verdict: string, parts: ReadonlySet<string>, labels: Labels): EvidenceRow {
  const look = signalLook(e.signal);
  const weight = typeof e.weight === 'number' && Number.isFinite(e.weight) ? e.weight : 0;
  let role: RowRole = 'context';
  let note: string | null = null;
  // The class this row's process was given decides; host-wide rows answer to the host verdict.
  const decided = g.process ? (g.ownClass ?? verdict) : verdict;
  if (weight > 0) {
    if (e.supports !== decided) {
      role = 'outweighed';
      note = `outweighed by ${label(labels, decided)}${g.process ? ' for this process' : ''}`;
    } else if (g.process && decided !== verdict && !parts.has(decided) && decided !== 'general') {
      // The process is what its evidence says, but too small a share of the host to decide it.
      role = 'outweighed';
      note = `outweighed on this host by ${label(labels, verdict)}: the process holds ${g.share === null ? 'too small a share' : pctText(g.share * 100)} of the busy CPU/GPU`;
    } else role = 'supports';
  } else if (weight < 0) {
    role = 'against';
    note = `counts against ${label(labels, e.supports)}`;
  }
  return { signal: e.signal, label: look.label, value: valueText(e.signal, e.value), supports: e.supports, weight, weightText: weightText(weight), detail: e.detail ?? '', role, note };
}

/** The summary's words for a row; a list value is cut to its first item ("libcudnn.so.9 (+2 more)"). */
function phrase(r: EvidenceRow): string | null {
  const look = signalLook(r.signal);
  if (!look.phrase) return null;
  const items = look.unit === 'text' || look.unit === 'port' ? r.value.replace(/ \(\+\d+ more\)$/, '').split(', ') : [r.value];
  const more = (Number(/\(\+(\d+) more\)$/.exec(r.value)?.[1] ?? 0) || 0) + items.length - 1;
  return look.phrase.replace('{v}', more > 0 ? `${items[0]} (+${more} more)` : (items[0] ?? r.value));
}

const rankOf = (r: EvidenceRow): number => signalLook(r.signal).summaryRank ?? 1;

/** "python3 (pid 4711) holds 83 % of the busy CPU/GPU; flat CPU (CV 0.01), a 2.3 GiB working set: PoW mining". */
function summarize(v: VerdictLike, groups: readonly EvidenceGroup[], labels: Labels): string {
  const verdict = label(labels, v.class);
  if (v.class === 'idle') {
    const quiet = groups.find((g) => g.process === null)?.rows.find((r) => r.signal === 'host.quiet');
    return quiet ? `The host is quiet: CPU at ${quiet.value} on average: ${verdict}` : `The host is quiet: ${verdict}`;
  }
  // The processes that made the verdict: of its class, or of a specialised part of a mixed host.
  const deciding = new Set(v.class === 'mixed' ? (v.parts ?? []).map((p) => p.class).filter((c) => c !== 'general') : [v.class]);
  const procs = groups.filter((g) => g.process !== null && g.ownClass !== null && deciding.has(g.ownClass));
  const clauses: string[] = [];
  for (const g of procs.slice(0, v.class === 'mixed' ? 3 : 1)) {
    const who = g.members > 1 ? `${g.members} "${g.process!.name}" processes` : `${g.process!.name} (pid ${g.process!.pid})`;
    const holds = g.share !== null ? ` ${g.members > 1 ? 'hold' : 'holds'} ${pctText(g.share * 100)} of the busy CPU/GPU` : '';
    const why = g.rows
      .filter((r) => r.role === 'supports' && r.supports === g.ownClass)
      .sort((a, b) => rankOf(a) - rankOf(b))
      .map(phrase)
      .filter((p): p is string => p !== null)
      .slice(0, 3);
    const cls = v.class === 'mixed' ? `, ${label(labels, g.ownClass)}` : '';
    clauses.push(`${who}${holds}${cls}${why.length ? `${cls ? ': ' : '; '}${why.join(', ')}` : ''}`);
  }
  if (clauses.length === 0) return `No process stands out: ${verdict}`;
  return `${clauses.join('; ')}: ${verdict}`;
}
