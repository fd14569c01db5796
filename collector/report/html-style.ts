// The report page's stylesheet: plain, readable on screen, and clean when printed to PDF.
import { LIGHT_COLORS } from '../classes.js';

/** Class colours: the dashboard's light theme, from their one source; plus the report's "before enrollment" hatch. */
export const CLASS_COLORS: Record<string, string> = {
  ...LIGHT_COLORS,
  'before-enrollment': 'repeating-linear-gradient(135deg,#f3f4f6 0 4px,#d1d5db 4px 6px)',
};

export const REPORT_CSS = `
:root { --fg:#111827; --muted:#6b7280; --line:#e5e7eb; --bg:#fff; --card:#f9fafb; --ok:#047857; --bad:#b91c1c; --unsure:#b45309; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
main { max-width: 1040px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.muted { color: var(--muted); } .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; word-break: break-all; }
.statement { border: 2px solid; border-radius: 8px; padding: 12px 16px; margin: 16px 0; break-inside: avoid; }
.statement.ok { border-color: var(--ok); background: #ecfdf5; } .statement.bad { border-color: var(--bad); background: #fef2f2; }
.statement.unsure { border-color: var(--unsure); background: #fffbeb; } .statement.neutral { border-color: var(--muted); background: var(--card); }
.statement strong { font-size: 16px; } .statement ul, .verdict-line ul { margin: 6px 0 0; padding-left: 20px; } ul.notes { color: var(--muted); }
.verdict-line { border-left: 4px solid; padding: 4px 10px; margin: 8px 0; break-inside: avoid; }
.verdict-line.ok { border-color: var(--ok); } .verdict-line.bad { border-color: var(--bad); color: var(--bad); } .verdict-line.unsure { border-color: var(--unsure); } .verdict-line.neutral { border-color: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; margin: 2px 0 8px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; break-inside: auto; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; background: var(--card); } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr { break-inside: avoid; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; } .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; break-inside: avoid; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; } dt { color: var(--muted); } dd { margin: 0; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: middle; }
.timeline { display: flex; height: 26px; border: 1px solid var(--line); border-radius: 4px; overflow: hidden; margin: 6px 0 2px; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.timeline > div { height: 100%; } .axis { display: flex; justify-content: space-between; font-size: 11px; color: var(--muted); }
.plot { margin: 8px 0 16px; break-inside: avoid; } .plot h3 { margin-bottom: 2px; }
.host { break-before: auto; } .evidence { margin-bottom: 10px; break-inside: auto; }
.evidence-summary { font-weight: 600; margin: 4px 0; } tr.group th { background: #eef2f7; font-weight: 600; }
tr.outweighed td, tr.context td { color: var(--muted); } .sig { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 11px; } tr.against td:nth-child(4) { color: var(--bad); } em.note { color: var(--unsure); font-style: normal; }
details summary { cursor: pointer; color: var(--muted); }
footer { margin-top: 32px; font-size: 12px; color: var(--muted); border-top: 1px solid var(--line); padding-top: 8px; }
@media print {
  @page { size: A4; margin: 14mm; }
  body { font-size: 11px; } main { max-width: none; padding: 0; }
  h2 { break-after: avoid; } .host + .host { break-before: page; }
  details { display: block; } details > summary { display: none; } details > * { display: block; }
  .statement, .card, .timeline, .swatch, .legend { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
