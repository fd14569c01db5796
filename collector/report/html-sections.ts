// One host's part of the HTML report, rendered as static markup (readable without scripts and
// in print); only the plots are drawn by the page's script from the embedded JSON.
import { CLASS_COLORS } from './html-style.js';
import type { HostSection, Period } from './types.js';

export const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
export const pct = (x: number | null, d = 2): string => (x === null ? '—' : `${(x * 100).toFixed(d)} %`);
export const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
export function dur(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(2)} h`;
}
const swatch = (cls: string): string => `<span class="swatch" style="background:${CLASS_COLORS[cls] ?? '#999'}"></span>`;
const table = (head: string[], rows: string[][], numCols: number[] = []): string =>
  `<table><thead><tr>${head.map((h, i) => `<th${numCols.includes(i) ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td${numCols.includes(i) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
const longList = (n: number, html: string): string => (n > 12 ? `<details open><summary>${n} rows</summary>${html}</details>` : html);

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
    ${chain ? `<dt>Batches</dt><dd>${chain.batches.length}</dd><dt>Starts after</dt><dd class="mono">${esc(chain.startsAfter || '(chain start)')}</dd><dt>Head</dt><dd class="mono">${esc(chain.head)}</dd>` : ''}
    ${inv ? `<dt>CPU</dt><dd>${esc(inv.cpuModel)} (${esc(inv.logicalCores)} threads)</dd><dt>Memory</dt><dd>${(inv.memoryTotalBytes / 2 ** 30).toFixed(1)} GiB</dd><dt>GPUs</dt><dd>${esc(inv.gpus.join(', ') || 'none')}</dd><dt>Kernel</dt><dd>${esc(inv.kernel)}</dd>` : ''}
    <dt>Sampling interval</dt><dd>${esc(h.derived.intervalMs)} ms</dd></dl></div></div>`;
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
  return `<h3>Coverage: ${pct(d.coverage.ratio)} of ${esc(dur(d.coverage.periodMs))} (${d.samples} samples)</h3>
    ${gaps.length ? longList(gaps.length, table(['From', 'To', 'Duration', 'Cause', 'Detail'], gaps, [2])) : '<p class="muted">No gaps.</p>'}
    <h3>Time and energy per class</h3>
    ${table(['Class', 'Time', 'Time share', 'Energy (kWh)', 'Energy share'], classes, [1, 2, 3, 4])}
    <p class="muted">Energy: ${d.energy.totalKwh === null ? 'unavailable' : `${d.energy.totalKwh.toFixed(4)} kWh`} — ${esc(d.energy.note)}.
    AI classes: ${pct(d.aiShare)}; non-AI work: ${pct(d.nonAi.share)}, longest stretch ${esc(dur(d.nonAi.longestRunMs))}.</p>`;
}

function timelineBar(h: HostSection, period: Period): string {
  const total = Math.max(1, period.toMs - period.fromMs);
  let cursor = period.fromMs;
  const segs: string[] = [];
  for (const s of h.derived.timeline) {
    if (s.fromMs > cursor) segs.push(`<div title="no verdict" style="width:${((100 * (s.fromMs - cursor)) / total).toFixed(3)}%;background:${CLASS_COLORS.unclassified}"></div>`);
    segs.push(`<div title="${esc(`${s.class} ${iso(s.fromMs)} – ${iso(s.toMs)}`)}" style="width:${((100 * (s.toMs - s.fromMs)) / total).toFixed(3)}%;background:${CLASS_COLORS[s.class] ?? '#999'}"></div>`);
    cursor = s.toMs;
  }
  const rows = h.derived.timeline.map((s) => [esc(iso(s.fromMs)), esc(iso(s.toMs)), `${swatch(s.class)}${esc(s.class)}`, pct(s.confidence, 0), String(s.verdicts)]);
  return `<h3>Class timeline</h3><div class="timeline" data-testid="class-timeline">${segs.join('')}</div>
    <div class="axis"><span>${esc(iso(period.fromMs))}</span><span>${esc(iso(period.toMs))}</span></div>
    ${longList(rows.length, table(['From', 'To', 'Class', 'Confidence', 'Verdicts'], rows, [3, 4]))}`;
}

function evidence(h: HostSection): string {
  if (h.derived.evidence.length === 0) return '<h3>Evidence</h3><p class="muted">No non-idle verdicts in the period.</p>';
  return `<h3>Evidence behind the verdicts</h3>${h.derived.evidence
    .map(
      (e) => `<div class="evidence"><b>${swatch(e.class)}${esc(e.class)}</b> ${pct(e.confidence, 0)} · ${esc(iso(e.fromMs))} – ${esc(iso(e.toMs))}
      ${e.parts.length ? `<div class="muted">parts: ${e.parts.map((p) => `${esc(p.class)} ${pct(p.share, 0)} (${p.processes.map((x) => esc(`${x.name} ${x.pid}`)).join(', ')})`).join('; ')}</div>` : ''}
      ${table(['Signal', 'Supports', 'Weight', 'Detail', 'Process'], e.evidence.map((x) => [esc(x.signal), esc(x.supports), x.weight.toFixed(2), esc(x.detail), esc(x.process ? `${x.process.name} ${x.process.pid}` : '')]), [2])}</div>`,
    )
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

export function hostSection(h: HostSection, i: number, period: Period): string {
  const st = h.derived.statement;
  return `<section class="host"><h2>${esc(h.input.identity.hostname || h.input.identity.id)} <span class="muted">${esc(h.input.identity.id)}</span></h2>
    <p class="${st.aiOnly ? 'ok' : 'bad'}"><b>${esc(st.text)}</b>${st.reasons.length ? ` ${st.reasons.map(esc).join('; ')}.` : ''}</p>
    ${identity(h)}${coverageAndShares(h)}${timelineBar(h, period)}
    <div class="plot" id="plot-cpu-${i}"><h3>CPU %</h3></div><div class="plot" id="plot-gpu-${i}"><h3>GPU util %</h3></div><div class="plot" id="plot-power-${i}"><h3>Power (W)</h3></div>
    ${evidence(h)}${facts(h)}</section>`;
}
