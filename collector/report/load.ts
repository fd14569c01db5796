// Reads a report file: the JSON report, or an HTML report with the JSON embedded.
import { readFileSync } from 'node:fs';

export const EMBED_ID = 'assay-report';

export function parseReportText(text: string): unknown {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) return JSON.parse(text);
  const m = new RegExp(`<script type="application/json" id="${EMBED_ID}">([\\s\\S]*?)</script>`).exec(text);
  if (!m) throw new Error('neither a JSON report nor an HTML report with the report embedded');
  return JSON.parse(m[1]!);
}

export function loadReportFile(file: string): unknown {
  return parseReportText(readFileSync(file, 'utf8'));
}

/** JSON safe inside a <script> element: no `<` can end it early. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
