// One host's part of the HTML report, rendered as static markup (readable without scripts and
// in print); only the plots are drawn by the page's script from the embedded JSON.
import { CLASS_COLORS } from './html-style.js';
import { hostStatementLine, nonAiSection } from './html-statement.js';
import { dur, esc, iso, longList, pct, swatch, table } from './html-util.js';
import type { EvidenceEntry, HostSection, Period, Thresholds } from './types.js';
import { CLASS_LOOKS, STATE_LOOKS } from '../classes.js';
import { pctText, viewEvidence, type EvidenceView, type VerdictLike } from '../evidence-text.js';

const CLASS_LABELS: Record<string, string> = Object.fromEntries(Object.entries({ ...CLASS_LOOKS, ...STATE_LOOKS }).map(([k, v]) => [k, v.label]));

/** Context batches (chained payloads' predecessors before the period) said as such; nothing without. */
const contextNote = (n: number): string => (n ? ` (the first ${n} before the period, embedded only to decode the chained batch after them)` : '');

function identity(h: HostSection): string {
  const id = h.input.identity;
  const inv = h.input.inventory;
  const chain = h.derived.chain;
  return `<div class="grid"><div class="card"><h3>Agent identity</h3><dl>
    <dt>Agent id</dt><dd class="mono">${esc(id.id)}</dd><dt>Hostname</dt><dd>${esc(id.hostname)}</dd>
    <dt>Agent version</dt><dd>${esc(id.agentVersion)}</dd>
    <dt>Public key</dt><dd class="mono">${esc(id.publicKey ?? 'none (local scan)')}</dd>
    <dt>Fingerprint</dt><dd class="mono">${esc(id.fingerprint ?? '—')}</dd></dl></div>
    <div class="card"><h3>${chain ? 'Hash chain and machine' : 'Machine'}</h3><dl>
    ${chain ? `<dt>Batches</dt><dd>${chain.batches.length}${contextNote(chain.batches.filter((b) => b.context).length)}</dd><dt>Starts after</dt><dd class="mono">${esc(chain.startsAfter || '(chain start)')}</dd><dt>Head</dt><dd class="mono">${esc(chain.head)}</dd>` : ''}
    ${inv ? `<dt>CPU</dt><dd>${esc(inv.cpuModel)} (${esc(inv.logicalCores)} threads)</dd><dt>Memory</dt><dd>${(inv.memoryTotalBytes / 2 ** 30).toFixed(1)} GiB</dd><dt>GPUs</dt><dd>${esc(inv.gpus.join(', ') || 'none')}</dd><dt>Kernel</dt><dd>${esc(inv.kernel)}</dd>` : ''}
    <dt>Sampling interval</dt><dd>${esc(h.derived.intervalMs)} ms</dd></dl></div></div>`;
}

/** Figures that rest on the collector's roll-ups (raw signed batches pruned): said plainly, apart from the attested ones. */
function rollupsNote(h: HostSection): string {
  const r = h.derived.rollups;
  if (!r) return '';
  const f = (v: number | null, unit: string): string => (v === null ? '—' : `${v.toFixed(1)} ${unit}`);
  return `<div class="card" data-testid="rollups"><h3>Not re-derivable: roll-ups only, ${esc(iso(r.fromMs))} to ${esc(iso(r.toMs))}</h3>
    <p>${esc(r.note)}</p>
    <dl><dt>Roll-ups</dt><dd>${r.rows} × ${esc(r.resolution)} (${r.samples} samples summarised)</dd><dt>CPU</dt><dd>${f(r.cpuPct, '%')} average, ${f(r.cpuPctMax, '%')} peak</dd>
    <dt>GPU</dt><dd>${f(r.gpuUtilPct, '%')} average</dd><dt>Power</dt><dd>${f(r.powerWatts, 'W')} average</dd></dl></div>`;
}

function coverageAndShares(h: HostSection): string {
  const d = h.derived;
  const gaps = d.coverage.gaps.map((g) => [esc(iso(g.fromMs)), esc(iso(g.toMs)), esc(dur(g.durationMs)), `<b>${esc(g.cause)}</b>`, esc(g.detail)]);
  const classes = d.classes.map((c) => [
    `${swatch(c.class)}${esc(c.class)}`,
    esc(dur(c.timeMs)),
    pct(c.timeShare),
    c.energyKwh === null ? '—' : c.energyKwh.toFixed(4),
    pct(c.energyShare),
  ]);
  const b = d.coverage.beforeEnrollment;
  const since = b ? ` since the agent's enrollment` : '';
  return `<h3>Coverage: ${pct(d.coverage.ratio)} of ${esc(dur(d.coverage.periodMs))}${since} (${d.samples} samples)</h3>
    ${b ? `<p class="muted" data-testid="before-enrollment">Before enrollment: ${esc(iso(b.fromMs))} to ${esc(iso(b.toMs))} (${esc(dur(b.durationMs))}). The agent's hash chain starts at its first sample; time before it was not monitored, so it is neither covered nor a gap and does not count against coverage.</p>` : ''}
    ${gaps.length ? longList(gaps.length, table(['From', 'To', 'Duration', 'Cause', 'Detail'], gaps, [2])) : '<p class="muted">No gaps.</p>'}
    ${rollupsNote(h)}
    <h3>Time and energy per class</h3>
    ${table(['Class', 'Time', 'Time share', 'Energy (kWh)', 'Energy share'], classes, [1, 2, 3, 4])}
    <p class="muted">Energy: ${d.energy.totalKwh === null ? 'unavailable' : `${d.energy.totalKwh.toFixed(4)} kWh`} — ${esc(d.energy.note)}.
    AI work: ${pct(d.aiShare)}; confident non-AI work: ${pct(d.nonAi.share)}, longest stretch ${esc(dur(d.nonAi.longestRunMs))}; doubtful non-AI work: ${pct(d.nonAi.doubtfulShare)}; idle/general: ${pct(d.idleGeneralShare)}.</p>`;
}

const BEFORE_ENROLLMENT = 'before-enrollment';
const LEGEND_LABELS: Record<string, string> = { unclassified: 'no verdict', [BEFORE_ENROLLMENT]: 'before enrollment' };
const segment = (key: string, title: string, ms: number, total: number): string =>
  `<div data-seg="${esc(key)}" title="${esc(title)}" style="width:${((100 * ms) / total).toFixed(3)}%;background:${CLASS_COLORS[key] ?? '#999'}"></div>`;

function timelineBar(h: HostSection, period: Period): string {
  const total = Math.max(1, period.toMs - period.fromMs);
  const b = h.derived.coverage.beforeEnrollment;
  let cursor = period.fromMs;
  const segs: string[] = [];
  const shown = new Set<string>();
  const add = (key: string, title: string, fromMs: number, toMs: number): void => {
    if (toMs <= fromMs) return;
    segs.push(segment(key, title, toMs - fromMs, total));
    shown.add(key);
  };
  if (b) {
    add(BEFORE_ENROLLMENT, `before enrollment ${iso(b.fromMs)} – ${iso(b.toMs)}`, b.fromMs, b.toMs);
    cursor = b.toMs;
  }
  for (const s of h.derived.timeline) {
    if (s.toMs <= cursor) continue;
    if (s.fromMs > cursor) add('unclassified', 'no verdict', cursor, s.fromMs);
    add(s.class, `${s.class} ${iso(Math.max(s.fromMs, cursor))} – ${iso(s.toMs)}`, Math.max(s.fromMs, cursor), s.toMs);
    cursor = s.toMs;
  }
  if (period.toMs > cursor) add('unclassified', 'no verdict', cursor, period.toMs);
  const order = [BEFORE_ENROLLMENT, ...Object.keys(CLASS_COLORS).filter((k) => k !== BEFORE_ENROLLMENT)];
  const legend = order
    .filter((k) => shown.has(k))
    .map((k) => `<span data-legend="${esc(k)}">${swatch(k)}${esc(LEGEND_LABELS[k] ?? k)}</span>`)
    .join('');
  const rows = h.derived.timeline.map((s) => [esc(iso(s.fromMs)), esc(iso(s.toMs)), `${swatch(s.class)}${esc(s.class)}`, pct(s.confidence, 0), String(s.verdicts)]);
  return `<h3>Class timeline</h3><div class="timeline" data-testid="class-timeline">${segs.join('')}</div>
    <div class="axis"><span>${esc(iso(period.fromMs))}</span><span>${esc(iso(period.toMs))}</span></div>
    <div class="legend" data-testid="timeline-legend">${legend}</div>
    ${longList(rows.length, table(['From', 'To', 'Class', 'Confidence', 'Verdicts'], rows, [3, 4]))}`;
}

/** The full verdict behind an evidence entry (the report embeds every verdict; derived keeps its strongest rows). */
function fullVerdict(h: HostSection, e: EvidenceEntry): VerdictLike {
  const v = h.input.verdicts.find((x) => x.tsMs === e.verdictTsMs)?.verdict;
  return v ?? { class: e.class, evidence: e.evidence, parts: e.parts };
}

/** Rows as the dashboard's host page shows them: one shared formatter (evidence-text.ts). */
function evidenceTable(view: EvidenceView): string {
  const rows: string[] = [];
  for (const g of view.groups) {
    const who = g.process ? `${esc(g.process.name)} <span class="muted">pid ${esc(g.process.pid)}</span>` : 'Host';
    const own = g.ownClass ? ` · ${swatch(g.ownClass)}${esc(CLASS_LABELS[g.ownClass] ?? g.ownClass)}` : '';
    const share = g.share !== null ? ` · ${esc(pctText(g.share * 100))} of the busy CPU/GPU` : g.members > 1 ? ` · ${esc(g.members)} processes` : '';
    rows.push(`<tr class="group"><th colspan="5" scope="rowgroup">${who}${own}${share}</th></tr>`);
    for (const r of g.rows) {
      rows.push(`<tr class="${r.role}" data-role="${r.role}"><td>${esc(r.label)}<br><span class="sig muted">${esc(r.signal)}</span></td><td class="num">${esc(r.value)}</td><td>${swatch(r.supports)}${esc(CLASS_LABELS[r.supports] ?? r.supports)}</td><td class="num">${esc(r.weightText)}</td><td>${esc(r.detail)}${r.note ? `<br><em class="note">${esc(r.note)}</em>` : ''}</td></tr>`);
    }
  }
  return `<table class="evidence-rows"><thead><tr><th>Signal</th><th class="num">Value</th><th>Pushes towards</th><th class="num">Weight</th><th>Detail</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function evidence(h: HostSection): string {
  if (h.derived.evidence.length === 0) return '<h3>Evidence</h3><p class="muted">No non-idle verdicts in the period.</p>';
  return `<h3>Evidence behind the verdicts</h3><p class="muted">Per stretch, its most confident verdict: processes by their share of the host, each signal by its contribution (|weight|); rows that pushed towards a class that lost say so.</p>${h.derived.evidence
    .map((e) => {
      const view = viewEvidence(fullVerdict(h, e), CLASS_LABELS);
      return `<div class="evidence"><b>${swatch(e.class)}${esc(CLASS_LABELS[e.class] ?? e.class)}</b> ${pct(e.confidence, 0)} · ${esc(iso(e.fromMs))} – ${esc(iso(e.toMs))}
      <p class="evidence-summary" data-testid="evidence-summary">${esc(view.summary)}</p>
      ${evidenceTable(view)}</div>`;
    })
    .join('')}`;
}

function facts(h: HostSection): string {
  const d = h.derived;
  const procs = d.topProcesses.map((p) => [String(p.pid), esc(p.name), p.cpuPctMean.toFixed(1), String(p.samples), `<span class="mono">${esc(p.exe)}${p.exeSha256 ? `<br>sha256 ${esc(p.exeSha256)}` : ''}</span>`]);
  const listen = d.network.listening.map((l) => [esc(l.protocol), String(l.port), esc(l.process)]);
  const peers = d.network.peers.map((p) => [esc(p.address), String(p.port), String(p.samples), esc(p.process)]);
  const gpus = d.gpus.map((g) => [String(g.index), esc(g.name), g.utilPctMean.toFixed(1), g.powerWattsMean === null ? '—' : g.powerWattsMean.toFixed(0)]);
  const unav = d.unavailable.map((u) => [esc(u.probe), esc(u.reason), String(u.samples)]);
  return `<h3>Top processes (mean CPU over the period)</h3>${table(['PID', 'Name', 'CPU %', 'Samples', 'Executable'], procs, [0, 2, 3])}
    <div class="grid"><div><h3>Listening ports</h3>${listen.length ? table(['Proto', 'Port', 'Process'], listen, [1]) : '<p class="muted">None seen.</p>'}</div>
    <div><h3>Peers</h3>${peers.length ? table(['Address', 'Port', 'Samples', 'Process'], peers, [1, 2]) : '<p class="muted">None seen.</p>'}</div></div>
    <h3>GPUs</h3>${gpus.length ? table(['#', 'Model', 'Util %', 'Power W'], gpus, [0, 2, 3]) : '<p class="muted">No GPUs seen.</p>'}
    <h3>Could not be read</h3>${unav.length ? table(['Probe', 'Reason', 'Samples'], unav, [2]) : '<p class="muted">Every probe read in every sample.</p>'}`;
}

export function hostSection(h: HostSection, i: number, period: Period, t: Thresholds): string {
  return `<section class="host"><h2>${esc(h.input.identity.hostname || h.input.identity.id)} <span class="muted">${esc(h.input.identity.id)}</span></h2>
    ${hostStatementLine(h.derived.statement)}
    ${identity(h)}${coverageAndShares(h)}${timelineBar(h, period)}
    <div class="plot" id="plot-cpu-${i}"><h3>CPU %</h3></div><div class="plot" id="plot-gpu-${i}"><h3>GPU util %</h3></div><div class="plot" id="plot-power-${i}"><h3>Power (W)</h3></div>
    ${nonAiSection(h, t)}${evidence(h)}${facts(h)}</section>`;
}
