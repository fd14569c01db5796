// Reads a report file: the JSON report, or an HTML report with the JSON embedded exactly once.
import { canonicalize } from './canonical.js';

export const EMBED_ID = 'assay-report';
const EMBED_OPEN = `<script type="application/json" id="${EMBED_ID}">`;

/** Is this text an HTML report rather than a JSON one? */
export const isHtmlReport = (text: string): boolean => !text.trimStart().startsWith('{');

/** The report embedded in an HTML page; refuses a page with no or several embedded blocks. */
export function embeddedJsonText(html: string): string {
  const count = html.split(EMBED_OPEN).length - 1;
  if (count === 0) throw new Error('neither a JSON report nor an HTML report with the report embedded');
  if (count > 1) throw new Error(`${count} embedded report blocks; an HTML report has exactly one`);
  const start = html.indexOf(EMBED_OPEN) + EMBED_OPEN.length;
  const end = html.indexOf('</script>', start);
  if (end < 0) throw new Error('the embedded report block is not closed');
  return html.slice(start, end);
}

export function parseReportText(text: string): unknown {
  return JSON.parse(isHtmlReport(text) ? embeddedJsonText(text) : text);
}

/**
 * Canonical JSON (sorted keys: the same bytes whatever order the report was assembled in) made
 * safe inside a <script> element: no `<` can end it early.
 */
export function embedJson(value: unknown): string {
  return canonicalize(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
