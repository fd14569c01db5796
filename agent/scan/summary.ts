// The human summary `assay scan` prints at the end: class, confidence, evidence, processes,
// ports and peers, GPUs and power, and what could not be read.
import type { Report } from '../../collector/report/index.js';
import { oneLine } from '../../proto/term.js';

const pct = (x: number): string => `${(x * 100).toFixed(0)} %`;

export function scanSummary(report: Report): string {
  const h = report.hosts[0];
  if (!h) return 'no data\n';
  const d = h.derived;
  const last = h.input.verdicts.at(-1)?.verdict;
  const out: string[] = [];
  const secs = (report.period.toMs - report.period.fromMs) / 1000;
  out.push(`Assay scan of ${h.input.identity.hostname}: ${d.samples} samples over ${secs.toFixed(0)} s (every ${d.intervalMs} ms)`);
  out.push('');
  out.push(last ? `Class: ${last.class}  (confidence ${pct(last.confidence)}, rules ${report.rules.version}, sha256 ${report.rules.sha256?.slice(0, 16)}…)` : 'Class: none (no verdict)');
  if (last?.parts.length) out.push(`Parts: ${last.parts.map((p) => `${p.class} ${pct(p.share)} [${p.processes.map((x) => `${x.name} ${x.pid}`).join(', ')}]`).join('; ')}`);
  if (d.classes.length > 1) out.push(`Over the scan: ${d.classes.map((c) => `${c.class} ${pct(c.timeShare)}`).join(', ')}`);
  out.push('', 'Evidence:');
  const ev = last ? [...last.evidence].sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight)).slice(0, 10) : [];
  if (ev.length === 0) out.push('  (none)');
  for (const e of ev) out.push(`  ${e.supports.padEnd(17)} ${e.weight.toFixed(2).padStart(6)}  ${e.detail}${e.process ? ` [${e.process.name} ${e.process.pid}]` : ''}`);
  out.push('', 'Top processes (mean CPU %):');
  for (const p of d.topProcesses.slice(0, 8)) out.push(`  ${String(p.pid).padStart(7)}  ${p.name.padEnd(16)} ${p.cpuPctMean.toFixed(1).padStart(6)}  ${p.exe}`);
  out.push('', `Listening ports: ${d.network.listening.map((l) => `${l.protocol}/${l.port}${l.process ? ` (${l.process})` : ''}`).join(', ') || 'none seen'}`);
  out.push(`Peers: ${d.network.peers.slice(0, 10).map((p) => `${p.address}:${p.port}${p.process ? ` (${p.process})` : ''}`).join(', ') || 'none seen'}`);
  out.push(`GPUs: ${d.gpus.map((g) => `#${g.index} ${g.name} ${g.utilPctMean.toFixed(0)} %${g.powerWattsMean !== null ? ` ${g.powerWattsMean.toFixed(0)} W` : ''}`).join(', ') || 'none seen'}`);
  const watts = d.series.powerWatts.filter((w): w is number => w !== null);
  out.push(`Power: ${watts.length ? `${(watts.reduce((a, w) => a + w, 0) / watts.length).toFixed(1)} W mean, ${d.energy.totalKwh?.toFixed(5)} kWh; ${d.energy.note}` : d.energy.note}`);
  out.push('', 'Could not be read:');
  if (d.unavailable.length === 0) out.push('  nothing: every probe read in every sample');
  for (const u of d.unavailable) out.push(`  ${u.probe}: ${u.reason} (${u.samples}/${d.samples} samples)`);
  const doubtful = d.nonAi.runs.filter((r) => r.doubtful);
  if (doubtful.length) {
    out.push('', `Doubtful non-AI time (confidence below ${pct(report.thresholds.minConfidence)}), reported apart:`);
    for (const r of doubtful.slice(0, 10)) out.push(`  ${r.class} for ${((r.toMs - r.fromMs) / 1000).toFixed(0)} s at ${pct(r.highestConfidence)}: ${r.evidence.map((e) => e.detail).join('; ') || 'no non-AI evidence recorded'}`);
  }
  const st = report.statement;
  out.push('', st.headline, ...st.reasons.map((r) => `  - ${r}`), ...st.notes.map((n) => `  note: ${n}`));
  // Every entry is one line: a process name or exe path (a miner names itself) cannot add lines.
  return out.map(oneLine).join('\n') + '\n';
}
