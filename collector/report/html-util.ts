// Small pieces of the HTML report: escaping, number and time formats, tables and swatches.
import { CLASS_COLORS } from './html-style.js';

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
export const swatch = (cls: string): string => `<span class="swatch" style="background:${CLASS_COLORS[cls] ?? '#999'}"></span>`;
export const table = (head: string[], rows: string[][], numCols: number[] = []): string =>
  `<table><thead><tr>${head.map((h, i) => `<th${numCols.includes(i) ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td${numCols.includes(i) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
export const longList = (n: number, html: string): string => (n > 12 ? `<details open><summary>${n} rows</summary>${html}</details>` : html);
