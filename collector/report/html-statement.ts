// The statement as the HTML report shows it: the verdict with its numbers, the thresholds it was
// judged by, the reasons and notes; and the non-AI stretches of a host, doubtful ones apart.
import { dur, esc, iso, pct, table } from './html-util.js';
import { VERDICT_LABELS } from './statement.js';
import type { HostSection, NonAiRun, Statement, StatementVerdict, Thresholds } from './types.js';

const TONE: Record<StatementVerdict, string> = {
  'ai-only': 'ok',
  'no-non-ai-no-ai': 'neutral',
  'non-ai-found': 'bad',
  'cannot-say': 'unsure',
  'insufficient-coverage': 'unsure',
};

const list = (items: readonly string[], cls: string): string => (items.length ? `<ul class="${cls}">${items.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : '');

function sharesTable(st: Statement): string {
  const s = st.shares;
  return table(
    ['AI', 'Non-AI (confident)', 'Doubtful non-AI', 'Idle / general', 'No verdict', 'Coverage'],
    [[pct(s.ai), pct(s.nonAi), pct(s.doubtfulNonAi), pct(s.idleGeneral), pct(s.unclassified), pct(s.coverage)]],
    [0, 1, 2, 3, 4, 5],
  );
}

export function thresholdsText(t: Thresholds): string {
  return `Thresholds: coverage ≥ ${pct(t.minCoverage)} of the period since the agent's enrollment; confident non-AI work (pow-mining, chain-validation, storage-proving, or such parts of mixed verdicts) ≤ ${pct(t.maxNonAiShare)} of the covered time and no stretch longer than ${(t.maxNonAiRunMs / 60_000).toFixed(1)} min; non-AI verdicts below ${pct(t.minConfidence, 0)} confidence are doubtful: listed apart, and when they take the non-AI time over those limits the answer is “${VERDICT_LABELS['cannot-say']}”, never “${VERDICT_LABELS['ai-only']}”.`;
}

const VERDICT_HELP = `Possible answers: ${(Object.keys(VERDICT_LABELS) as StatementVerdict[]).map((v) => `“${VERDICT_LABELS[v]}”`).join(', ')}. “AI-only” needs AI work present and non-AI work within the thresholds.`;

export function statementBox(st: Statement, t: Thresholds): string {
  return `<div class="statement ${TONE[st.verdict]}" data-testid="statement" data-verdict="${esc(st.verdict)}"><strong>${esc(st.headline)}</strong>
${sharesTable(st)}${list(st.reasons, 'reasons')}${list(st.notes, 'notes')}
<div class="muted">${esc(thresholdsText(t))} ${esc(VERDICT_HELP)}</div></div>`;
}

export function hostStatementLine(st: Statement): string {
  return `<div class="verdict-line ${TONE[st.verdict]}" data-testid="host-statement" data-verdict="${esc(st.verdict)}"><b>${esc(st.headline)}</b>${list(st.reasons, 'reasons')}${list(st.notes, 'notes')}</div>`;
}

function runRows(runs: readonly NonAiRun[]): string[][] {
  return runs.map((r) => [
    esc(iso(r.fromMs)),
    esc(iso(r.toMs)),
    esc(dur(r.toMs - r.fromMs)),
    esc(r.class),
    r.lowestConfidence === r.highestConfidence ? pct(r.lowestConfidence, 0) : `${pct(r.lowestConfidence, 0)}–${pct(r.highestConfidence, 0)}`,
    r.evidence.length || r.processes.length
      ? `${r.evidence.map((e) => esc(`${e.detail}${e.process ? ` [${e.process.name} ${e.process.pid}]` : ''} (${e.supports} ${e.weight.toFixed(2)})`)).join('<br>')}${r.processes.length ? `${r.evidence.length ? '<br>' : ''}processes: ${esc(r.processes.map((p) => `${p.name} ${p.pid}`).join(', '))}` : ''}`
      : '<span class="muted">no non-AI evidence recorded</span>',
  ]);
}

export function nonAiSection(h: HostSection, t: Thresholds): string {
  const n = h.derived.nonAi;
  const head = ['From', 'To', 'Duration', 'Class', 'Confidence', 'Evidence'];
  const confident = n.runs.filter((r) => !r.doubtful);
  const doubtful = n.runs.filter((r) => r.doubtful);
  const more = n.runCount > n.runs.length ? `<p class="muted">${n.runCount} stretches in all; the ${n.runs.length} longest are listed.</p>` : '';
  return `<h3>Non-AI work</h3>${confident.length ? table(head, runRows(confident), [2, 4]) : '<p class="muted">No confident non-AI verdicts in the period.</p>'}
    <h3 data-testid="doubtful-heading">Doubtful non-AI time (confidence below ${pct(t.minConfidence, 0)}), reported apart</h3>${
      doubtful.length ? table(head, runRows(doubtful), [2, 4]) : '<p class="muted">None.</p>'
    }${more}`;
}
