// The HTML report: one self-contained page (inline CSS, inline uPlot, the signed JSON report
// embedded so `assay verify report.html` works), for a person to read offline or print to PDF.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { uplotDistDir } from '../paths.js';
import { hostSection } from './html-sections.js';
import { esc, iso } from './html-util.js';
import { statementBox } from './html-statement.js';
import { REPORT_CSS } from './html-style.js';
import { EMBED_ID, embedJson } from './load.js';
import type { Report } from './types.js';

const scriptSafe = (js: string): string => js.replace(/<\/script/gi, '<\\/script');

/** Draws CPU, GPU and power plots from the embedded report (runs in the page; times in UTC like the rest of the report). */
const PLOT_SCRIPT = `
(function () {
  var report = JSON.parse(document.getElementById('${EMBED_ID}').textContent);
  var width = function (el) { return Math.max(320, Math.min(990, el.clientWidth || 900)); };
  report.hosts.forEach(function (h, i) {
    var s = h.derived.series;
    var xs = s.tsMs.map(function (t) { return t / 1000; });
    [['cpu', s.cpuPct, '#2563eb', '%'], ['gpu', s.gpuPct, '#7c3aed', '%'], ['power', s.powerWatts, '#d97706', 'W']].forEach(function (p) {
      var el = document.getElementById('plot-' + p[0] + '-' + i);
      if (!el) return;
      var has = p[1].some(function (v) { return v !== null; });
      if (!has) { var note = document.createElement('p'); note.className = 'muted'; note.textContent = 'No readings in the period.'; el.appendChild(note); return; }
      new uPlot({ width: width(el), height: 160, legend: { show: false }, cursor: { show: false },
        tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); },
        scales: { x: { time: true }, y: { range: p[3] === '%' ? [0, 100] : function (u, min, max) { return [0, Math.max(1, (max || 1) * 1.1)]; } } },
        series: [{}, { label: p[0], stroke: p[2], fill: p[2] + '22', width: 1.5, spanGaps: false }],
        axes: [{}, { values: function (u, v) { return v.map(function (x) { return x + ' ' + p[3]; }); }, size: 56 }] }, [xs, p[1]], el);
    });
  });
  document.documentElement.setAttribute('data-plots', 'ready');
})();
`;

export function renderHtml(report: Report): string {
  const uplotJs = readFileSync(join(uplotDistDir, 'uPlot.iife.min.js'), 'utf8');
  const uplotCss = readFileSync(join(uplotDistDir, 'uPlot.min.css'), 'utf8');
  const st = report.statement;
  const t = report.thresholds;
  const title = `Assay ${report.kind === 'scan' ? 'scan' : 'report'}: ${report.hosts.map((h) => h.input.identity.hostname || h.input.identity.id).join(', ')}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${uplotCss}</style><style>${REPORT_CSS}</style></head>
<body><main>
<h1>${esc(title)}</h1>
<p class="muted">${esc(iso(report.period.fromMs))} to ${esc(iso(report.period.toMs))} · generated ${esc(iso(report.generatedMs))} by ${esc(report.generator)} ·
${report.kind === 'scan' ? 'one local scan (proves what this run saw)' : "collector report (rests on each agent's signed hash chain)"} ·
verdicts by rules ${esc(report.rules.version)} <span class="mono">${esc(report.rules.sha256 ? `sha256 ${report.rules.sha256}` : '(not identified by a hash)')}</span></p>
${statementBox(st, t)}
${report.hosts.map((h, i) => hostSection(h, i, report.period, t)).join('\n')}
<footer>Signed by the ${esc(report.signer.role)} key <span class="mono">${esc(report.signer.fingerprint)}</span> (public key <span class="mono">${esc(report.signer.publicKey)}</span>).
Check this file with <code>assay verify ${report.kind === 'scan' ? 'scan' : 'report'}.html</code>: it verifies the signature${report.kind === 'collector' ? ", the agents' signatures and hash chain" : ''} and recomputes every figure from the embedded data.</footer>
</main>
<script type="application/json" id="${EMBED_ID}">${embedJson(report)}</script>
<script>${scriptSafe(uplotJs)}</script>
<script>${PLOT_SCRIPT}</script>
</body></html>
`;
}
